/**
 * Helpers for the progress tests on the real server: a learner's session
 * (cookie), waiting for their lab, a Check, and the toolbox pod's identity.
 */
import { kubectl } from "./cluster.ts";

export interface Learner {
  cookie: string;
  labId: string;
}

export async function json(res: Response): Promise<any> {
  const text = await res.text();
  try {
    return JSON.parse(text);
  } catch {
    throw new Error(`HTTP ${res.status}: not JSON: ${text.slice(0, 200)}`);
  }
}

/** A new session (POST /api/lab without a cookie), its lab ready. */
export async function newLearner(base: string, timeoutMs = 240_000): Promise<Learner> {
  const res = await fetch(`${base}/api/lab`, { method: "POST" });
  if (res.status !== 200) throw new Error(`POST /api/lab: ${res.status} ${await res.text()}`);
  const cookie = res.headers.get("set-cookie")!.split(";")[0];
  const lab = await json(res);
  await labReady(base, cookie, timeoutMs);
  return { cookie, labId: lab.id };
}

export async function labReady(base: string, cookie: string, timeoutMs = 240_000): Promise<any> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const lab = await json(await fetch(`${base}/api/lab`, { method: "POST", headers: { cookie } }));
    if (lab.state === "ready") return lab;
    if (lab.state === "error") throw new Error(`lab error: ${lab.message}`);
    if (Date.now() > deadline) throw new Error(`lab not ready after ${timeoutMs} ms: ${JSON.stringify(lab)}`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

export const check = (base: string, cookie: string, exercise: string, requestId?: string) =>
  fetch(`${base}/api/lab/grade`, {
    method: "POST",
    headers: { cookie, "content-type": "application/json" },
    body: JSON.stringify({ exercise, locale: "en", requestId }),
  });

/** uid of a lab's toolbox pod. */
export async function toolboxUid(labId: string): Promise<string> {
  const r = await kubectl(["-n", `kubelab-${labId}`, "get", "pod", "toolbox", "-o", "jsonpath={.metadata.uid}"]);
  if (r.code !== 0 || !r.stdout.trim()) throw new Error(`no toolbox pod for lab ${labId}: ${r.stderr}`);
  return r.stdout.trim();
}

/** When the toolbox's tmux session "main" was created (undefined without one). */
export async function tmuxCreated(labId: string): Promise<string | undefined> {
  const r = await kubectl([
    "-n",
    `kubelab-${labId}`,
    "exec",
    "toolbox",
    "-c",
    "toolbox",
    "--",
    "tmux",
    "display-message",
    "-p",
    "-t",
    "main",
    "#{session_created}",
  ]);
  return r.code === 0 ? r.stdout.trim() : undefined;
}
