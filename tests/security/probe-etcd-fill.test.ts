/**
 * Attack from a learner's shell (namespace mode, real server and cluster):
 * fill etcd, which the whole class shares, with ConfigMaps or Secrets of
 * about 1 MiB each. Without a count in the learner's quota one learner
 * wrote 20 such ConfigMaps in 10 s; at that rate etcd's default 2 GiB
 * backend is full in under 20 minutes and the cluster turns read-only for
 * every learner. The quota now counts both; the 21st is refused.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { kubectl } from "../support/cluster.ts";
import { deleteLabNamespaces, startLab, startServer, type ServerProcess } from "../support/server.ts";

const json = { "content-type": "application/json" };
/** Objects the attack tries to create of each kind: the quota (20) plus one, bounded. */
const ATTEMPTS = 21;

describe("a learner cannot fill the shared etcd", { timeout: 600_000 }, () => {
  let server: ServerProcess;
  let labId: string;
  let toolboxNs: string;

  before(async () => {
    server = await startServer(["--mode", "namespace"]);
    ({ id: labId } = await startLab(server));
    toolboxNs = `kubelab-${labId}`;
  });

  after(async () => {
    await server?.stop();
    if (labId) await deleteLabNamespaces([labId]);
  });

  for (const kind of ["configmap", "secret generic"]) {
    test(`${ATTEMPTS} large ${kind.split(" ")[0]}s from the toolbox shell: the quota refuses the last`, async () => {
      // As the learner: kubectl inside the toolbox uses the lab's service account and namespace.
      // A create that fails for another reason (a busy API server, a conflict on the quota's
      // status) is tried again, up to 3 times: only the quota's refusal ends an object's tries.
      const script =
        `head -c 100000 /dev/zero | tr '\\0' x > /tmp/v; : > /tmp/err; ok=0; ` +
        `for i in $(seq 1 ${ATTEMPTS}); do for try in 1 2 3; do ` +
        `if kubectl create ${kind} fill-$i --from-file=v=/tmp/v >/dev/null 2>/tmp/e; then ok=$((ok+1)); break; fi; ` +
        `cat /tmp/e >> /tmp/err; grep -qi "exceeded quota" /tmp/e && break; done; done; ` +
        `echo "created=$ok"; cat /tmp/err`;
      const res = await kubectl(["exec", "-n", toolboxNs, "toolbox", "--", "sh", "-c", script], { timeoutMs: 180_000 });
      assert.equal(res.code, 0, res.stderr);
      const created = Number(/created=(\d+)/.exec(res.stdout)?.[1]);
      assert.ok(
        created < ATTEMPTS,
        `all ${ATTEMPTS} ${kind}s of 100 KB (etcd takes objects up to 128 KiB) were accepted: nothing bounds what one learner writes to etcd\n${res.stdout}`,
      );
      assert.match(res.stdout, /exceeded quota/i);
    });
  }
});
