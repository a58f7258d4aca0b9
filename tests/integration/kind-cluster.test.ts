/**
 * A kind cluster from kubelab's node image, through kind's Go library
 * (src/cluster/kind/kind.ts): created, its node Ready and CoreDNS answering,
 * a Job resolving the API server's name and completing, then deleted with
 * nothing of it left in Docker.
 *
 * Needs a Docker whose --privileged starts a container on this machine, named
 * by KUBELAB_KIND_DOCKER_HOST: Debian's docker.io 20.10 is not one
 * (docs/kind.md: "unable to apply caps"); the kind provider's own Docker is
 * (`KUBELAB_PROVIDER=kind ./kubelab cluster up`, then its socket,
 * unix:///var/lib/kubelab-kind/engine/run/docker.sock). Without it the test is
 * skipped: tests/integration/kind-provider.test.ts runs a kind cluster
 * under that Docker end to end.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { ensureBinaries } from "../../src/cluster/local/binaries.ts";
import { buildKindNodeImage, createKindCluster, deleteKindCluster, kindClusters } from "../../src/cluster/kind/kind.ts";

const dockerHost = process.env.KUBELAB_KIND_DOCKER_HOST;
const skip = dockerHost
  ? false
  : "KUBELAB_KIND_DOCKER_HOST names no Docker whose --privileged works here (docs/kind.md)";
const NAME = `kubelab-it-${process.pid}`;
const IMAGE = "kubelab/kind-node:it";
const dir = mkdtempSync(join(tmpdir(), "kubelab-kind-cluster-"));
const kubeconfig = join(dir, "kubeconfig");

function run(cmd: string, args: string[], env: NodeJS.ProcessEnv = {}, timeout = 300_000): Promise<string> {
  return new Promise((resolve, reject) =>
    execFile(cmd, args, { env: { ...process.env, ...env }, timeout, maxBuffer: 16 << 20 }, (err, stdout, stderr) =>
      err ? reject(new Error(`${cmd} ${args.join(" ")}: ${stderr || err.message}`)) : resolve(stdout.trim()),
    ),
  );
}

const docker = (args: string[]) => run("docker", args, { DOCKER_HOST: dockerHost });

describe("a kind cluster from kubelab's node image", { skip, timeout: 900_000 }, () => {
  after(async () => {
    if (!skip) await deleteKindCluster(NAME, kubeconfig, dockerHost).catch(() => {});
    rmSync(dir, { recursive: true, force: true });
  });

  it("comes up Ready with CoreDNS, runs a Job, and leaves nothing when deleted", async () => {
    const archive = join(dir, "node.tar");
    await buildKindNodeImage(archive, IMAGE);
    await docker(["load", "-i", archive]);

    // The cluster's networks stay inside the nodes; these keep clear of the embedded cluster's all the same.
    const config = join(dir, "kind.yaml");
    writeFileSync(
      config,
      "kind: Cluster\napiVersion: kind.x-k8s.io/v1alpha4\nnetworking:\n  podSubnet: 10.253.0.0/16\n  serviceSubnet: 10.99.0.0/16\n",
    );
    const started = Date.now();
    const created = await createKindCluster({ name: NAME, image: IMAGE, kubeconfig, config, dockerHost });
    assert.deepEqual(created.nodes, [`${NAME}-control-plane`]);
    assert.ok((await kindClusters(dockerHost)).includes(NAME));

    const kubectlBinary = (await ensureBinaries()).kubectl;
    const kubectl = (args: string[]) => run(kubectlBinary, ["--kubeconfig", kubeconfig, ...args]);
    await kubectl(["wait", "--for=condition=Ready", "node", "--all", "--timeout=120s"]);
    await kubectl([
      "-n",
      "kube-system",
      "wait",
      "--for=condition=Ready",
      "pod",
      "-l",
      "k8s-app=kube-dns",
      "--timeout=180s",
    ]);
    console.log(`kind cluster Ready with CoreDNS in ${((Date.now() - started) / 1000).toFixed(0)} s`);

    const job = join(dir, "job.yaml");
    writeFileSync(
      job,
      `apiVersion: batch/v1
kind: Job
metadata:
  name: hello
spec:
  backoffLimit: 0
  template:
    spec:
      restartPolicy: Never
      containers:
      - name: hello
        image: busybox
        imagePullPolicy: IfNotPresent
        # kube-proxy may set the DNS Service's rules a little after CoreDNS is Ready (seconds, on a loaded machine).
        command: [sh, -c, "for i in $(seq 30); do nslookup kubernetes.default.svc.cluster.local && echo resolved && exit; sleep 2; done; exit 1"]
`,
    );
    await kubectl(["apply", "-f", job]);
    await kubectl(["wait", "--for=condition=complete", "job/hello", "--timeout=120s"]);
    const logs = await kubectl(["logs", "job/hello"]);
    assert.match(logs, /Address: 10\.99\.0\.1\b/, logs);
    assert.match(logs, /resolved/);

    await deleteKindCluster(NAME, kubeconfig, dockerHost);
    assert.ok(!(await kindClusters(dockerHost)).includes(NAME));
    assert.equal(await docker(["ps", "-aq", "--filter", `label=io.x-k8s.kind.cluster=${NAME}`]), "");
    await docker(["rmi", IMAGE]);
  });
});
