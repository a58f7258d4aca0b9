/**
 * A learner of a class cannot fill etcd, which the whole class shares
 * (issue: Security II, item 3), against a real `kubelab start --mode
 * namespace` and the real cluster: every kind the learner's role may create
 * is counted by their quota (ConfigMaps and Secrets were; Roles,
 * RoleBindings, Leases and the rest were not: 20 Roles of 815 KB went in
 * within 5 s), objects are bounded in size, and etcd has a backend quota.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { request } from "node:https";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import type { V1ResourceQuota } from "@kubernetes/client-node";
import { LocalProvider } from "../../src/cluster/local/local-provider.ts";
import { LOCAL_PATH_STORAGE_CLASS } from "../../src/images/local-path.ts";
import { PORTS } from "../../src/cluster/local/layout.ts";
import { providerFromEnv } from "../../src/cluster/providers.ts";
import { ETCD_MAX_OBJECT_BYTES, ETCD_QUOTA_BYTES, LAB_OBJECT_COUNTS } from "../../src/lab/manifests.ts";
import { kubectl } from "../support/cluster.ts";
import { deleteLabNamespaces, startLab, startServer, type ServerProcess } from "../support/server.ts";

const provider = providerFromEnv();
const local = provider instanceof LocalProvider ? provider : undefined;

/** Resources that are not objects kept in etcd, or not the learner's to count. */
const NOT_STORED = new Set([
  "localsubjectaccessreviews.authorization.k8s.io",
  "selfsubjectaccessreviews.authorization.k8s.io",
  "selfsubjectrulesreviews.authorization.k8s.io",
  "selfsubjectreviews.authentication.k8s.io",
  "tokenreviews.authentication.k8s.io",
  "subjectaccessreviews.authorization.k8s.io",
  // Written by the controllers into the learner's namespace and read by graders: not counted, bounded
  // by the event TTL; the learner's own writes are refused (the next test).
  "events",
  "events.events.k8s.io",
]);

/** The quota name that counts `resource` (legacy names for the core kinds that have one). */
function quotaKey(resource: string): string[] {
  return [`count/${resource}`, resource];
}

describe("a learner cannot fill etcd", { timeout: 600_000 }, () => {
  let server: ServerProcess;
  let labId: string;
  let ns: string;
  let toolboxNs: string;
  const inToolbox = (command: string, timeoutMs = 120_000) =>
    kubectl(["exec", "-n", toolboxNs, "toolbox", "--", "bash", "-c", command], { timeoutMs });

  before(async () => {
    server = await startServer(["--mode", "namespace"]);
    ({ id: labId } = await startLab(server));
    ns = `lab-${labId}`;
    toolboxNs = `kubelab-${labId}`;
  });

  after(async () => {
    await server?.stop();
    if (labId) await deleteLabNamespaces([labId]);
  });

  test("every kind the learner may create in their namespace is counted by its quota", async () => {
    const can = await kubectl(["auth", "can-i", "--list", `--as=system:serviceaccount:${toolboxNs}:learner`, "-n", ns]);
    assert.equal(can.code, 0, can.stderr);
    // Lines such as "roles.rbac.authorization.k8s.io   []   []   [create delete get list ...]".
    const creatable = can.stdout
      .split("\n")
      .map((line) => /^(\S+)\s+\[.*?\]\s+\[.*?\]\s+\[(.*)\]$/.exec(line.trim()))
      .filter((m): m is RegExpExecArray => !!m && /(^| )(create|\*)( |$)/.test(m[2]))
      .map((m) => m[1])
      .filter((resource) => !resource.includes("/") && !NOT_STORED.has(resource));
    assert.ok(creatable.includes("roles.rbac.authorization.k8s.io"), `the learner may create Roles: ${creatable}`);
    const quota = JSON.parse(
      (await kubectl(["get", "resourcequota", "kubelab-quota", "-n", ns, "-o", "json"])).stdout,
    ) as V1ResourceQuota;
    const hard = quota.spec!.hard!;
    // Namespaced resources only: the learner's role holds none of the cluster's.
    const namespaced = new Set(
      (await kubectl(["api-resources", "--namespaced=true", "-o", "name"])).stdout.trim().split("\n"),
    );
    const uncounted = creatable.filter((r) => namespaced.has(r) && !quotaKey(r).some((key) => key in hard));
    assert.deepEqual(uncounted, [], `kinds the learner can create without a count in the quota`);
  });

  test("the learner cannot write Events, which no quota counts", async () => {
    const res = await inToolbox(
      `kubectl create -f - 2>&1 <<'EOF'; echo rc=$?
apiVersion: v1
kind: Event
metadata: {name: filler}
involvedObject: {kind: Pod, name: nothing, namespace: ${ns}}
reason: Filler
message: ${"x".repeat(1000)}
EOF`,
    );
    assert.match(res.stdout, /rc=1/, `an Event of the learner's was stored: ${res.stdout}`);
    assert.match(res.stdout, /Events/);
  });

  test("the learner's Roles are counted: the one past the quota's count is refused", async () => {
    const roles = Number(LAB_OBJECT_COUNTS["count/roles.rbac.authorization.k8s.io"]);
    const res = await inToolbox(
      `for i in $(seq 1 ${roles + 2}); do kubectl create role filler-$i --verb=get --resource=pods >/dev/null 2>/tmp/err-$i || { cat /tmp/err-$i; echo "refused at $i"; break; }; done`,
    );
    assert.match(res.stdout, new RegExp(`refused at ${roles + 1}\\b`), `stdout: ${res.stdout} stderr: ${res.stderr}`);
    assert.match(res.stdout, /exceeded quota/);
  });

  test("a claim on the node's local-path class, whose size nothing enforces, is refused", async () => {
    // No class named: the cluster's default class (local-path on the local cluster) is filled in before quota.
    const res = await inToolbox(
      `kubectl create -f - 2>&1 <<'EOF'; echo rc=$?
apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: disk-filler}
spec: {accessModes: [ReadWriteOnce], resources: {requests: {storage: 1Mi}}}
EOF`,
    );
    const defaultClass = await kubectl(["get", "storageclass", LOCAL_PATH_STORAGE_CLASS]);
    if (defaultClass.code === 0) {
      assert.match(res.stdout, /rc=1/, `a local-path claim was stored: ${res.stdout}`);
      assert.match(res.stdout, /exceeded quota/);
    } else {
      // Another provider's cluster: its default class is its own, bounded by the count of claims.
      assert.match(res.stdout, /rc=0/, res.stdout);
    }
  });

  test("an object larger than etcd takes is refused, not stored", async () => {
    const big = "x".repeat(ETCD_MAX_OBJECT_BYTES + 1024);
    // `create`, not `apply`: apply's last-applied annotation would trip the annotations' own 256 KiB limit.
    const res = await kubectl(["create", "-n", ns, "-f", "-"], {
      input: JSON.stringify({
        apiVersion: "rbac.authorization.k8s.io/v1",
        kind: "Role",
        metadata: { name: "too-big" },
        rules: [{ apiGroups: [""], resources: ["pods"], verbs: ["get"], resourceNames: [big] }],
      }),
    });
    assert.notEqual(res.code, 0, "a Role larger than etcd's request limit was stored");
    const stored = await kubectl(["get", "role", "too-big", "-n", ns]);
    assert.notEqual(stored.code, 0, "the Role is not there");
  });

  test("etcd has a backend quota", { skip: local ? false : "reads the local node's etcd" }, async () => {
    const pki = local!.layout;
    const metrics = await new Promise<string>((resolve, reject) => {
      const req = request(
        {
          host: "127.0.0.1",
          port: PORTS.etcdClient,
          path: "/metrics",
          ca: readFileSync(join(pki.etcdPki, "ca.crt")),
          cert: readFileSync(join(pki.pki, "apiserver-etcd-client.crt")),
          key: readFileSync(join(pki.pki, "apiserver-etcd-client.key")),
          agent: false,
          timeout: 5000,
        },
        (res) => {
          let body = "";
          res.on("data", (chunk) => (body += chunk));
          res.on("end", () => resolve(body));
        },
      );
      req.on("error", reject);
      req.end();
    });
    const quota = /^etcd_server_quota_backend_bytes\s+(\S+)$/m.exec(metrics)?.[1];
    assert.equal(Number(quota), ETCD_QUOTA_BYTES, `etcd's backend quota (metric: ${quota})`);
  });
});
