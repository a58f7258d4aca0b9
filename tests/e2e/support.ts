/**
 * Helpers for the end-to-end tests: drive the lesson page's terminal the way
 * a learner would, read its text back, and keep the shared lab clean with the
 * cluster's admin kubeconfig.
 */
import { readdirSync, readFileSync, readlinkSync } from "node:fs";
import { BatchV1Api, CoreV1Api, KubeConfig } from "@kubernetes/client-node";
import { expect, type APIRequestContext, type Page } from "@playwright/test";
import { providerFromEnv } from "../../src/cluster/providers.ts";
import { INTERRUPT, INTERRUPT_SETTLE_MS } from "../../src/site/run-commands.ts";

/** The toolbox shell's prompt, as the lessons show it. */
export const PROMPT = "[root@master pod]#";
/** Cluster mode: the one lab's learner namespace. */
export const LEARNER_NAMESPACE = "default";

interface TerminalElement extends HTMLElement {
  getText(): string;
  run(command: string): void;
  sendInput(text: string): void;
}

/** The terminal's active buffer as text (tmux draws on the alternate screen). */
export function terminalText(page: Page): Promise<string> {
  return page.evaluate(() => (document.querySelector("kubelab-terminal") as TerminalElement | null)?.getText() ?? "");
}

/** Type a command (plus Enter) through the element's API. */
export async function runInTerminal(page: Page, command: string): Promise<void> {
  await page.evaluate((c) => (document.querySelector("kubelab-terminal") as TerminalElement).run(c), command);
}

export async function sendInput(page: Page, raw: string): Promise<void> {
  await page.evaluate((r) => (document.querySelector("kubelab-terminal") as TerminalElement).sendInput(r), raw);
}

/** Poll the terminal text until it matches. */
export async function expectTerminal(page: Page, pattern: RegExp, timeout = 60_000): Promise<void> {
  await expect
    .poll(() => terminalText(page), {
      timeout,
      intervals: [250, 500, 1000],
      message: `terminal text should match ${pattern}`,
    })
    .toMatch(pattern);
}

/** A line consisting of the prompt alone (the cursor waiting for input). */
const EMPTY_PROMPT_LINE = /^\[root@master pod\]#\s*$/m;

/**
 * Open a lesson, wait until the terminal is connected and the shell prompt is
 * there, then clear the screen so output left by earlier tests (the tmux
 * session outlives pages) cannot satisfy later assertions.
 */
export async function openLesson(page: Page, path: string): Promise<void> {
  await page.goto(path);
  const terminal = page.locator("kubelab-terminal");
  await expect(terminal).toHaveAttribute("data-state", "ready", { timeout: 120_000 });
  // A redraw after attaching shows whatever tmux had; poke the shell for a fresh prompt.
  await clearTerminal(page);
}

/** Cancel any half-typed input, clear the screen and wait for a lone prompt. */
export async function clearTerminal(page: Page): Promise<void> {
  await expect(async () => {
    await sendInput(page, INTERRUPT); // drop a half-typed line or a running command
    await page.waitForTimeout(INTERRUPT_SETTLE_MS); // else bash loses the c of clear with the interrupt
    await runInTerminal(page, "clear");
    await expect.poll(() => terminalText(page), { timeout: 5_000 }).toMatch(/^\[root@master pod\]#\s*$/);
  }).toPass({ timeout: 60_000, intervals: [500, 1000, 2000] });
  expect(await terminalText(page)).toMatch(EMPTY_PROMPT_LINE);
}

let kubeConfig: KubeConfig | undefined;
function adminConfig(): KubeConfig {
  if (!kubeConfig) {
    kubeConfig = new KubeConfig();
    kubeConfig.loadFromFile(process.env.KUBECONFIG ?? providerFromEnv().kubeconfigPath());
  }
  return kubeConfig;
}

/**
 * Press an exercise's Check button and wait for its answer; how long the
 * answer took (seconds) is what the "never waits silently" tests measure.
 */
export async function pressCheck(page: Page, exercise: string) {
  const check = page.locator(`kubelab-check[exercise="${exercise}"]`);
  const button = check.locator("button[data-check]");
  await button.scrollIntoViewIfNeeded();
  // Timed in the page, from just before the press to the answer: an assertion polling the attribute
  // (every 500 ms after its first few tries) would add up to half a second that no learner waits.
  await check.evaluate((el: HTMLElement & { answered?: Promise<number> }, timeoutMs: number) => {
    const started = performance.now();
    el.answered = new Promise<number>((resolve, reject) => {
      let ran = el.dataset.state === "running";
      const observer = new MutationObserver(() => {
        if (el.dataset.state === "running") ran = true;
        else if (ran) {
          observer.disconnect();
          resolve(performance.now() - started);
        }
      });
      observer.observe(el, { attributes: true, attributeFilter: ["data-state"] });
      setTimeout(() => {
        observer.disconnect();
        reject(new Error(`the Check gave no answer within ${timeoutMs} ms`));
      }, timeoutMs);
    });
  }, 90_000);
  await button.click();
  const ms = await check.evaluate((el: HTMLElement & { answered?: Promise<number> }) => el.answered!);
  return { check, seconds: ms / 1000 };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Start each test with an empty learner namespace: reset the lab through the
 * API (as the Reset button does), then make sure no Job `echo` or its Pods
 * are left, whoever created them.
 */
export async function resetLab(request: APIRequestContext): Promise<void> {
  const created = await request.post("/api/lab", { data: {} });
  expect(created.ok(), `POST /api/lab: ${created.status()} ${await created.text()}`).toBeTruthy();
  const reset = await request.post("/api/lab/reset", { data: {} });
  expect(reset.ok(), `POST /api/lab/reset: ${reset.status()} ${await reset.text()}`).toBeTruthy();

  const batch = adminConfig().makeApiClient(BatchV1Api);
  const core = adminConfig().makeApiClient(CoreV1Api);
  try {
    await batch.deleteNamespacedJob({
      name: "echo",
      namespace: LEARNER_NAMESPACE,
      propagationPolicy: "Background",
      gracePeriodSeconds: 0,
    });
  } catch (err) {
    if ((err as { code?: number }).code !== 404) throw err;
  }
  // Deletion is asynchronous: wait until the Job and its Pods are really gone,
  // so `kubectl create` cannot meet "already exists" and `get po` no stale Pod.
  const deadline = Date.now() + 60_000;
  for (;;) {
    const jobs = await batch.listNamespacedJob({ namespace: LEARNER_NAMESPACE, fieldSelector: "metadata.name=echo" });
    const pods = await core.listNamespacedPod({ namespace: LEARNER_NAMESPACE, labelSelector: "job-name=echo" });
    if (jobs.items.length === 0 && pods.items.length === 0) return;
    if (Date.now() > deadline) {
      throw new Error(
        `Job echo or its Pods are still in namespace ${LEARNER_NAMESPACE} a minute after deleting them: ` +
          [...jobs.items, ...pods.items].map((o) => o.metadata?.name).join(", "),
      );
    }
    await sleep(250);
  }
}

/**
 * The pid of the process listening on `port` (the lab server), found through
 * /proc: the listening socket's inode, then the process holding that inode.
 */
export function pidListeningOn(port: number): number | undefined {
  const inodes = new Set<string>();
  for (const table of ["/proc/net/tcp", "/proc/net/tcp6"]) {
    let text: string;
    try {
      text = readFileSync(table, "utf8");
    } catch {
      continue;
    }
    for (const line of text.split("\n").slice(1)) {
      const cols = line.trim().split(/\s+/);
      if (cols.length < 10) continue;
      const localPort = parseInt(cols[1].split(":")[1], 16);
      if (localPort === port && cols[3] === "0A" /* LISTEN */) inodes.add(cols[9]);
    }
  }
  if (inodes.size === 0) return undefined;
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    let fds: string[];
    try {
      fds = readdirSync(`/proc/${entry}/fd`);
    } catch {
      continue;
    }
    for (const fd of fds) {
      try {
        const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${entry}/fd/${fd}`));
        if (m && inodes.has(m[1])) return Number(entry);
      } catch {
        /* the fd closed meanwhile */
      }
    }
  }
  return undefined;
}

/** VmRSS and VmHWM (peak) of a process, in KiB. */
export function memoryOf(pid: number): { rssKiB: number; hwmKiB: number } {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const field = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, "m").exec(status)?.[1] ?? NaN);
  return { rssKiB: field("VmRSS"), hwmKiB: field("VmHWM") };
}
