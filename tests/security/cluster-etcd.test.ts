/**
 * Attacks on the embedded cluster itself, on the real local node:
 * - etcd as a web page or another local process would reach it: plain http,
 *   TLS without a client certificate, a certificate of the cluster CA, and
 *   the CORS headers a browser needs to read a cross-origin reply;
 * - Secret values at rest: a marker written through the API must not appear
 *   in etcd's files (bbolt db and WAL);
 * - one learner's request flood: priority-and-fairness must classify requests;
 * - a fork bomb in one pod: the kubelet's pod pid limit must stop it.
 */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { readdirSync, readFileSync } from "node:fs";
import { request } from "node:https";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { LocalProvider } from "../../src/cluster/local/local-provider.ts";
import { PORTS } from "../../src/cluster/local/layout.ts";
import { POD_PIDS_LIMIT } from "../../src/cluster/local/node-config.ts";
import { providerFromEnv } from "../../src/cluster/providers.ts";
import { eventually, kubectl } from "../support/cluster.ts";

const provider = providerFromEnv();
const local = provider instanceof LocalProvider ? provider : undefined;
const ETCD = `127.0.0.1:${PORTS.etcdClient}`;
const EVIL_ORIGIN = "http://evil.example";

interface Reply {
  status?: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
  error?: string;
}

/** A request to etcd over TLS with the given client certificate (or none). */
function etcdTls(
  path: string,
  options: { method?: string; body?: string; cert?: string; key?: string; headers?: Record<string, string> } = {},
): Promise<Reply> {
  const pki = local!.layout;
  return new Promise((resolveReply) => {
    const req = request(
      {
        host: "127.0.0.1",
        port: PORTS.etcdClient,
        path,
        method: options.method ?? "GET",
        ca: readFileSync(join(pki.etcdPki, "ca.crt")),
        cert: options.cert,
        key: options.key,
        headers: options.headers,
        agent: false,
        timeout: 5000,
      },
      (res) => {
        let body = "";
        res.on("data", (chunk) => (body += chunk));
        res.on("end", () => resolveReply({ status: res.statusCode, headers: res.headers, body }));
      },
    );
    req.on("timeout", () => req.destroy(new Error("timeout")));
    req.on("error", (err) =>
      resolveReply({ headers: {}, body: "", error: (err as NodeJS.ErrnoException).code ?? err.message }),
    );
    req.end(options.body);
  });
}

/** A plain-http request, as a web page's `fetch` (a "simple" text/plain POST needs no preflight). */
async function plainHttp(path: string, init: RequestInit = {}): Promise<Reply> {
  try {
    const res = await fetch(`http://${ETCD}${path}`, {
      ...init,
      headers: { origin: EVIL_ORIGIN, ...init.headers },
      signal: AbortSignal.timeout(5000),
    });
    return { status: res.status, headers: Object.fromEntries(res.headers), body: await res.text() };
  } catch (err) {
    return { headers: {}, body: "", error: String((err as { cause?: Error }).cause?.message ?? err) };
  }
}

const pem = (file: string) => readFileSync(file, "utf8");

/** Every file under a directory, recursively. */
function filesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((entry) => entry.isFile())
    .map((entry) => join(entry.parentPath, entry.name));
}

/** The kubelet's cgroup of a pod (cgroup v1 pids hierarchy or the v2 root). */
function podPidsCgroup(uid: string): string | undefined {
  for (const root of ["/sys/fs/cgroup/pids/kubepods", "/sys/fs/cgroup/kubepods"]) {
    try {
      const found = readdirSync(root, { withFileTypes: true, recursive: true }).find(
        (entry) => entry.isDirectory() && entry.name === `pod${uid}`,
      );
      if (found) return join(found.parentPath, found.name);
    } catch {
      /* this hierarchy does not exist here */
    }
  }
  return undefined;
}

describe(
  "the embedded cluster's own defences",
  { skip: !local && "needs the local provider", timeout: 240_000 },
  () => {
    const namespace = `sec-cluster-${randomBytes(4).toString("hex")}`;

    before(async () => {
      const created = await kubectl(["create", "namespace", namespace]);
      assert.equal(created.code, 0, created.stderr);
    });

    after(async () => {
      await kubectl(["delete", "namespace", namespace, "--wait=false", "--ignore-not-found"]);
    });

    test("etcd refuses plain http, from curl or a web page", async () => {
      const attempts = [
        await plainHttp("/version"),
        // The browser attack: a text/plain POST to the JSON gateway writes a key.
        await plainHttp("/v3/kv/put", {
          method: "POST",
          headers: { "content-type": "text/plain" },
          body: JSON.stringify({ key: "a2V5", value: "dg==" }),
        }),
        await plainHttp("/v3/kv/range", {
          method: "POST",
          headers: { "content-type": "text/plain" },
          body: JSON.stringify({ key: "AA==", range_end: "AA==" }),
        }),
      ];
      for (const reply of attempts) {
        assert.ok(
          reply.error || (reply.status ?? 0) >= 400,
          `plain http answered: ${reply.status} ${reply.body.slice(0, 200)}`,
        );
        assert.equal(reply.headers["access-control-allow-origin"], undefined);
      }
    });

    test("etcd refuses TLS without a client certificate, and with one of the cluster CA", async () => {
      const anonymous = await etcdTls("/version");
      assert.ok(anonymous.error, `TLS without a client certificate answered: ${anonymous.status} ${anonymous.body}`);
      // The admin certificate (system:masters) is signed by the cluster CA, which also signs approved CSRs.
      const adminKubeconfig = readFileSync(local!.layout.adminKubeconfig, "utf8");
      const field = (name: string) =>
        Buffer.from(new RegExp(`${name}: (\\S+)`).exec(adminKubeconfig)![1], "base64").toString();
      const clusterCa = await etcdTls("/version", {
        cert: field("client-certificate-data"),
        key: field("client-key-data"),
      });
      assert.ok(clusterCa.error, `a cluster-CA certificate was accepted: ${clusterCa.status} ${clusterCa.body}`);
    });

    test("etcd answers only its API server's certificate, with no CORS headers and no JSON gateway", async () => {
      const client = {
        cert: pem(join(local!.layout.pki, "apiserver-etcd-client.crt")),
        key: pem(join(local!.layout.pki, "apiserver-etcd-client.key")),
      };
      const version = await etcdTls("/version", { ...client, headers: { origin: EVIL_ORIGIN } });
      assert.equal(version.status, 200, version.error ?? version.body); // the control: etcd is up and this certificate works
      const preflight = await etcdTls("/v3/kv/range", {
        ...client,
        method: "OPTIONS",
        headers: { origin: EVIL_ORIGIN, "access-control-request-method": "POST" },
      });
      const gateway = await etcdTls("/v3/kv/range", {
        ...client,
        method: "POST",
        body: JSON.stringify({ key: "AA==", range_end: "AA==" }),
      });
      assert.equal(gateway.status, 404, `the JSON gateway answered: ${gateway.body.slice(0, 200)}`);
      for (const reply of [version, preflight, gateway]) {
        assert.equal(reply.headers["access-control-allow-origin"], undefined, JSON.stringify(reply.headers));
      }
    });

    test("a Secret's value does not appear in etcd's files", async () => {
      const marker = `kubelab-marker-${randomBytes(16).toString("hex")}`;
      const name = "at-rest-probe";
      const created = await kubectl([
        "create",
        "secret",
        "generic",
        name,
        "-n",
        namespace,
        `--from-literal=value=${marker}`,
      ]);
      assert.equal(created.code, 0, created.stderr);
      const key = Buffer.from(`/registry/secrets/${namespace}/${name}`);
      const db = join(local!.layout.etcd, "member", "snap", "db");
      // The control: the Secret's key (never encrypted) reaches the db, so the scan sees what etcd wrote.
      await eventually(
        async () => readFileSync(db).includes(key),
        "the Secret to be written to etcd's db",
        15_000,
        1000,
      );
      // One pass, a file at a time (the db and WAL segments can be hundreds of MB).
      const leaks: string[] = [];
      let encrypted = false;
      for (const file of filesUnder(local!.layout.etcd)) {
        const bytes = readFileSync(file);
        if (bytes.includes(marker) || bytes.includes(Buffer.from(marker).toString("base64"))) leaks.push(file);
        encrypted ||= bytes.includes("k8s:enc:secretbox:v1:");
      }
      assert.deepEqual(leaks, [], `the Secret's value is stored in clear in ${leaks.join(", ")}`);
      assert.ok(encrypted, "Secrets are stored secretbox-encrypted");
      // And the API still reads it back.
      const read = await kubectl(["get", "secret", name, "-n", namespace, "-o", "jsonpath={.data.value}"]);
      assert.equal(Buffer.from(read.stdout, "base64").toString(), marker);
    });

    test("priority-and-fairness classifies API requests", async () => {
      const levels = await kubectl(["get", "--raw", "/debug/api_priority_and_fairness/dump_priority_levels"]);
      assert.equal(levels.code, 0, `APF debug endpoint: ${levels.stderr}`);
      for (const level of ["exempt", "workload-low", "global-default", "catch-all"])
        assert.match(levels.stdout, new RegExp(`^${level},`, "m"));
      // Every response names the flow schema and priority level the request was queued in.
      const verbose = await kubectl(["get", "namespace", namespace, "-v=8"]);
      assert.match(verbose.stderr, /X-Kubernetes-Pf-Prioritylevel-Uid: \S+/i);
      const schemas = await kubectl(["get", "flowschemas", "-o", "name"]);
      for (const schema of ["exempt", "system-nodes", "kube-controller-manager", "global-default", "catch-all"]) {
        assert.ok(schemas.stdout.includes(`flowschema.flowcontrol.apiserver.k8s.io/${schema}\n`), schemas.stdout);
      }
    });

    test("the kubelet runs with a pod pid limit", async () => {
      const configz = await kubectl(["get", "--raw", "/api/v1/nodes/kubelab-node/proxy/configz"]);
      assert.equal(configz.code, 0, configz.stderr);
      assert.equal(JSON.parse(configz.stdout).kubeletconfig.podPidsLimit, POD_PIDS_LIMIT);
    });

    test("a fork bomb in one pod stops at the pod pid limit", async () => {
      const forks = POD_PIDS_LIMIT + 200;
      // The loop runs in a subshell (which dies when fork fails); PID 1 then becomes a sleep that needs no fork.
      const script = `(i=0; while [ $i -lt ${forks} ]; do sleep 600 & i=$((i+1)); done); exec sleep 600`;
      const pod = {
        apiVersion: "v1",
        kind: "Pod",
        metadata: { name: "fork-bomb", namespace },
        spec: {
          restartPolicy: "Never",
          terminationGracePeriodSeconds: 0,
          containers: [
            { name: "bomb", image: "busybox", imagePullPolicy: "IfNotPresent", command: ["sh", "-c", script] },
          ],
        },
      };
      const applied = await kubectl(["apply", "-f", "-"], { input: JSON.stringify(pod) });
      assert.equal(applied.code, 0, applied.stderr);
      try {
        const uid = await eventually(
          async () => {
            const got = await kubectl([
              "get",
              "pod",
              "fork-bomb",
              "-n",
              namespace,
              "-o",
              "jsonpath={.metadata.uid}|{.status.phase}",
            ]);
            const [podUid, phase] = got.stdout.split("|");
            return phase === "Running" && podUid;
          },
          "the fork-bomb pod to run",
          60_000,
        );
        const cgroup = await eventually(async () => podPidsCgroup(uid), "the pod's pids cgroup", 10_000, 200);
        const read = (file: string) => readFileSync(join(cgroup, file), "utf8").trim();
        // cgroup v1 counts a denied fork in the forking task's cgroup (the container's), v2 at the limit: sum both.
        const deniedForks = () =>
          [
            cgroup,
            ...readdirSync(cgroup, { withFileTypes: true })
              .filter((e) => e.isDirectory())
              .map((e) => join(cgroup, e.name)),
          ]
            .map((dir) => Number(/^max (\d+)/m.exec(readFileSync(join(dir, "pids.events"), "utf8"))?.[1] ?? 0))
            .reduce((a, b) => a + b, 0);
        // Wait until the bomb has forked all it can: either every fork, or forks denied at the limit.
        await eventually(
          async () => Number(read("pids.current")) >= forks || deniedForks() > 0,
          "the fork bomb to spend its forks",
          90_000,
          250,
        );
        assert.equal(read("pids.max"), String(POD_PIDS_LIMIT));
        assert.ok(Number(read("pids.current")) <= POD_PIDS_LIMIT, `pids in the pod: ${read("pids.current")}`);
        assert.ok(deniedForks() > 0, "forks were denied at the limit");
      } finally {
        await kubectl([
          "delete",
          "pod",
          "fork-bomb",
          "-n",
          namespace,
          "--grace-period=0",
          "--force",
          "--ignore-not-found",
        ]);
      }
    });
  },
);
