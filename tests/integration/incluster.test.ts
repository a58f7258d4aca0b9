/**
 * The in-cluster provider on the real cluster, run outside a pod: a real
 * ServiceAccount bound to a ClusterRole made from
 * deploy/helm/kubelab/files/rbac-rules.yaml (the chart's), its token from the
 * TokenRequest API (`kubectl create token`), laid out as a pod's service
 * account mount. `up` names the right the account lacks, then passes; the
 * NetworkPolicy check runs with those rights; and a server process killed
 * and started again on the same store takes back the learner's lab (same
 * toolbox pod), their Check history and their running exam attempt.
 */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { KubeConfig } from "@kubernetes/client-node";
import { InclusterProvider } from "../../src/cluster/incluster/incluster-provider.ts";
import { loadRbacRules, type PolicyRule } from "../../src/cluster/incluster/rbac-rules.ts";
import { checkPolicyEnforcement } from "../../src/lab/policy-check.ts";
import { kubeconfig, kubectl } from "../support/cluster.ts";
import { check, json, labReady, newLearner, toolboxUid } from "../support/progress.ts";
import { deleteLabNamespaces, openTerminal, startServer, type ServerProcess } from "../support/server.ts";

const id = randomBytes(3).toString("hex");
const NAMESPACE = `kubelab-incluster-${id}`;
const ROLE = `kubelab-incluster-test-${id}`;
const dir = mkdtempSync(join(tmpdir(), "kubelab-incluster-"));
const root = join(dir, "pod");
const labs: string[] = [];
let server: ServerProcess | undefined;

const admin = new KubeConfig();
admin.loadFromFile(kubeconfig());
const api = new URL(admin.getCurrentCluster()!.server);
/** What a pod's environment says of the API server. */
const serviceEnv = { KUBERNETES_SERVICE_HOST: api.hostname, KUBERNETES_SERVICE_PORT: api.port || "443" };

async function ok(what: string, args: string[], input?: string): Promise<string> {
  const r = await kubectl(args, { input });
  assert.equal(r.code, 0, `${what}: ${r.stderr}`);
  return r.stdout;
}

function applyRole(rules: PolicyRule[]): Promise<string> {
  const role = { apiVersion: "rbac.authorization.k8s.io/v1", kind: "ClusterRole", metadata: { name: ROLE }, rules };
  return ok("the ClusterRole", ["apply", "-f", "-"], JSON.stringify(role));
}

before(async () => {
  await ok("the namespace", ["create", "namespace", NAMESPACE]);
  await ok("the ServiceAccount", ["-n", NAMESPACE, "create", "serviceaccount", "kubelab"]);
  // Every rule but the one that lets it bind learners to `admin`: up must name it.
  await applyRole(loadRbacRules().filter((r) => !r.verbs.includes("bind")));
  await ok("the binding", [
    "create",
    "clusterrolebinding",
    ROLE,
    `--clusterrole=${ROLE}`,
    `--serviceaccount=${NAMESPACE}:kubelab`,
  ]);
  const token = await ok("a token (TokenRequest)", ["-n", NAMESPACE, "create", "token", "kubelab", "--duration=2h"]);
  const sa = join(root, "var/run/secrets/kubernetes.io/serviceaccount");
  mkdirSync(sa, { recursive: true });
  writeFileSync(join(sa, "token"), token.trim());
  writeFileSync(join(sa, "namespace"), NAMESPACE);
  const ca = admin.getCurrentCluster()!;
  writeFileSync(join(sa, "ca.crt"), ca.caData ? Buffer.from(ca.caData, "base64") : readFileSync(ca.caFile!));
  Object.assign(process.env, serviceEnv);
});

after(async () => {
  await server?.stop();
  await deleteLabNamespaces(labs);
  // An exam's task namespaces carry their lab's id (a failed run leaves its attempt running).
  for (const lab of labs) await kubectl(["delete", "namespace", "-l", `kubelab.dev/lab=${lab}`, "--wait=false"]);
  await kubectl(["delete", "clusterrolebinding", ROLE, "--ignore-not-found"]);
  await kubectl(["delete", "clusterrole", ROLE, "--ignore-not-found"]);
  await kubectl(["delete", "namespace", NAMESPACE, "--ignore-not-found", "--wait=false"]);
  rmSync(dir, { recursive: true, force: true });
});

describe("in-cluster provider on the real cluster", { timeout: 900_000 }, () => {
  it("up names the right the service account lacks, then passes with the chart's rules", async () => {
    const provider = new InclusterProvider({ root });
    await assert.rejects(provider.up({ mode: "namespace" }), (err: Error & { hint?: string }) => {
      assert.match(err.message, /lacks 1 right\(s\) it needs: bind clusterroles\.rbac\.authorization\.k8s\.io\/admin/);
      assert.match(err.hint ?? "", /rbac-rules\.yaml/);
      return true;
    });
    await applyRole(loadRbacRules());
    const info = await provider.up({ mode: "namespace" });
    assert.equal(info.podNetworkReachable, true);
    assert.deepEqual(info.serverPods?.namespace, NAMESPACE);
    assert.equal(info.server, admin.getCurrentCluster()!.server);

    // The enforcement check needs no more than those rules.
    const asServer = new KubeConfig();
    asServer.loadFromFile(provider.kubeconfigPath());
    const result = await checkPolicyEnforcement(asServer, { image: "busybox" });
    assert.equal(result.enforced, true, result.detail);
  });

  it("a new server process on the same store takes back the lab, the Check history and the running exam", async () => {
    const env = {
      ...serviceEnv,
      KUBELAB_PROVIDER: "incluster",
      KUBELAB_SERVICE_ACCOUNT_ROOT: root,
      KUBELAB_STORE: join(dir, "progress.db"),
    };
    server = await startServer(["--mode", "namespace"], env);
    const learner = await newLearner(server.url);
    labs.push(learner.labId);
    const terminal = await openTerminal(server, learner.cookie);
    terminal.socket.close();
    assert.doesNotMatch(server.stderr(), /through the API's exec/, "the terminal went through the agent");
    const uid = await toolboxUid(learner.labId);
    // The learner's toolbox admits the server's pods on the agent's port only.
    const policy = JSON.parse(
      await ok("the toolbox policy", [
        "-n",
        `kubelab-${learner.labId}`,
        "get",
        "networkpolicy",
        "kubelab-isolation",
        "-o",
        "json",
      ]),
    );
    assert.equal(
      policy.spec.ingress[0].from[0].namespaceSelector.matchLabels["kubernetes.io/metadata.name"],
      NAMESPACE,
    );
    // A learner's Reset empties their namespace with the server's rights (deletecollection of what `admin` makes).
    const ns = `lab-${learner.labId}`;
    await ok("a learner's Job", ["-n", ns, "create", "job", "made", "--image=busybox", "--", "true"]);
    await ok("a learner's Role", ["-n", ns, "create", "role", "made", "--verb=get", "--resource=pods"]);
    const reset = await fetch(`${server.url}/api/lab/reset`, {
      method: "POST",
      headers: { cookie: learner.cookie, origin: server.url, "content-type": "application/json" },
      body: "{}",
    });
    assert.equal(reset.status, 200, await reset.clone().text());
    assert.equal((await ok("after the reset", ["-n", ns, "get", "jobs,roles", "-o", "name"])).trim(), "");
    const graded = await json(await check(server.url, learner.cookie, "job/echo", `incluster-${id}`));
    assert.equal(typeof graded.attempt?.seq, "number", `the Check was recorded: ${JSON.stringify(graded)}`);
    const headers = { cookie: learner.cookie, origin: server.url, "content-type": "application/json" };
    const started = await fetch(`${server.url}/api/exam/start`, {
      method: "POST",
      headers,
      body: JSON.stringify({ exam: "ckad-mock" }),
    });
    assert.equal(started.status, 201, await started.clone().text());
    const exam = await started.json();
    const progress = await json(await fetch(`${server.url}/api/progress`, { headers: { cookie: learner.cookie } }));

    process.kill(server.pid, "SIGKILL");
    await server.stop();
    server = await startServer(["--mode", "namespace"], env);
    const log = server.stderr();
    assert.match(log, new RegExp(`lab ${learner.labId}: adopted after a restart`));
    assert.match(log, /1 running exam attempts/);
    const lab = await json(await fetch(`${server.url}/api/lab`, { headers: { cookie: learner.cookie } }));
    assert.equal(lab.id, learner.labId, "the old cookie finds the same lab");
    await labReady(server.url, learner.cookie);
    assert.equal(await toolboxUid(learner.labId), uid, "the same toolbox pod");
    const again = await json(await fetch(`${server.url}/api/progress`, { headers: { cookie: learner.cookie } }));
    assert.deepEqual(again, progress, "the same progress");
    const headers2 = { ...headers, origin: server.url };
    const view = await json(await fetch(`${server.url}/api/exam/attempt?id=${exam.id}`, { headers: headers2 }));
    assert.equal(view.endsAt, exam.endsAt, "the same attempt, its deadline kept");
    assert.ok(view.remainingSeconds > 0, "still running");
    await ok("the attempt's first task namespace", ["get", "namespace", exam.tasks[0].namespace]);
    const submitted = await fetch(`${server.url}/api/exam/submit`, {
      method: "POST",
      headers: headers2,
      body: JSON.stringify({ id: exam.id }),
    });
    assert.equal(submitted.status, 200, await submitted.text());
  });
});
