/**
 * The learner's workbench in Chromium: the live cluster view (a Job's pods
 * appear and complete in the tree; its delay from an object change to the
 * page, measured; the lesson page's JavaScript before the view is opened,
 * and that the view's chunk comes only with the first open), terminal tabs
 * (two tabs are two named windows of the tmux session, switched by mouse and
 * keyboard), and the exam's copy buttons for drawn values (and its task
 * namespaces offered in the cluster view). Screenshots at
 * 1366×900, 800×900 and 1920×1080 in test-results/.
 *
 * The objects are made with the admin kubeconfig in the learner namespace
 * (cluster mode: `default`) under names of this run, and deleted after.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";
import { BatchV1Api, CoreV1Api, KubeConfig } from "@kubernetes/client-node";
import { expect, test, type Page } from "@playwright/test";
import { providerFromEnv } from "../../src/cluster/providers.ts";
import { expectTerminal, LEARNER_NAMESPACE, openLesson, runInTerminal } from "./support.ts";

const RESULTS = fileURLToPath(new URL("../../test-results/", import.meta.url));
const SIZES = [
  { width: 1366, height: 900 },
  { width: 800, height: 900 },
  { width: 1920, height: 1080 },
];
const RUN = Math.random().toString(36).slice(2, 7);
const EXAM_LABEL = "kubelab.dev/exam-attempt";

const kc = new KubeConfig();
kc.loadFromFile(process.env.KUBECONFIG ?? providerFromEnv().kubeconfigPath());
const batch = kc.makeApiClient(BatchV1Api);
const core = kc.makeApiClient(CoreV1Api);
const made: string[] = [];

async function createJob(name: string, spec: { completions: number; suspend?: boolean }) {
  made.push(name);
  await batch.createNamespacedJob({
    namespace: LEARNER_NAMESPACE,
    body: {
      metadata: { name },
      spec: {
        completions: spec.completions,
        parallelism: 1,
        suspend: spec.suspend ?? false,
        ttlSecondsAfterFinished: 600,
        template: {
          spec: {
            restartPolicy: "Never",
            initContainers: [{ name: "prepare", image: "busybox", command: ["sh", "-c", "sleep 1"] }],
            containers: [{ name: "work", image: "busybox", command: ["sh", "-c", "sleep 1; echo done"] }],
          },
        },
      },
    },
  });
}

test.afterAll(async () => {
  await Promise.all(
    made.map((name) =>
      batch
        .deleteNamespacedJob({ name, namespace: LEARNER_NAMESPACE, propagationPolicy: "Background" })
        .catch(() => {}),
    ),
  );
});

/** The view's tree item for an object of `kind` named `name`. */
const item = (page: Page, kind: string, name: string) =>
  page.locator(`[role=tree] [role=treeitem][data-kind="${kind}"][data-name="${name}"]`);

const percentile = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.ceil(p * sorted.length) - 1)];

test("the cluster view shows a Job's pods appear and complete, loaded only when opened", async ({ page }) => {
  test.setTimeout(6 * 60_000);
  const scripts = new Map<string, number>();
  page.on("response", async (response) => {
    if (response.request().resourceType() !== "script") return;
    const body = await response.body().catch(() => Buffer.alloc(0));
    scripts.set(new URL(response.url()).pathname, gzipSync(body).length);
  });
  await openLesson(page, "/en/job/");
  await page.waitForLoadState("networkidle");
  const before = [...scripts.entries()];
  const gzipKB = before.reduce((sum, [, n]) => sum + n, 0) / 1024;
  expect(
    before.some(([path]) => /cluster-view\.[\w-]+\.js$/.test(path)),
    "the view's chunk waits for the first open",
  ).toBe(false);
  expect(gzipKB, "the lesson page's JavaScript before the view opens (gzip)").toBeLessThanOrEqual(150);

  const toggle = page.getByRole("button", { name: "Cluster", exact: true });
  await expect(toggle).toHaveAttribute("aria-expanded", "false");
  await toggle.click();
  await expect(toggle).toHaveAttribute("aria-expanded", "true");
  const tree = page.getByRole("tree");
  await expect(tree).toBeVisible();
  await expect(page.locator("#kubelab-cluster-view h2")).toHaveText(`Live view of namespace ${LEARNER_NAMESPACE}`);
  const chunk = [...scripts.entries()].find(([path]) => /cluster-view\.[\w-]+\.js$/.test(path));
  expect(chunk, "the view's chunk came with the first open").toBeTruthy();

  // A Job of two completions, one pod at a time: each pod's init container finishes before its app runs.
  const name = `view-${RUN}`;
  await createJob(name, { completions: 2 });
  const job = item(page, "Job", name);
  await expect(job).toBeVisible();
  // 0/2 when the view is prompt; on a loaded runner the first pod (two 1 s sleeps) may already have succeeded.
  await expect(job.locator(":scope > .kl-node .kl-state")).toHaveText(/^[01]\/2 succeeded/);
  const pods = job.locator(':scope > [role=group] > [role=treeitem][data-kind="Pod"]');
  await expect(pods.first()).toBeVisible({ timeout: 60_000 });
  await expect(pods.first().locator('[data-kind="Container"]')).toHaveCount(2);
  await expect(pods.first().locator('[data-kind="Container"]').first()).toContainText("init container");
  await expect(job.locator(":scope > .kl-node .kl-state")).toHaveText("Complete: 2/2 succeeded", {
    timeout: 120_000,
  });
  await expect(pods).toHaveCount(2);
  for (const pod of await pods.all()) {
    await expect(pod.locator(":scope > .kl-node .kl-state")).toHaveText(/^Succeeded/);
    await expect(pod.locator('[data-kind="Container"] .kl-state').first()).toHaveText("terminated: Completed (exit 0)");
  }
  // States are words, not colour only; the tree is a real tree.
  await expect(job).toHaveAttribute("aria-level", "1");
  await expect(pods.first()).toHaveAttribute("aria-level", "2");
  // The keyboard: the first item takes focus, Right/Down walk into the Job.
  await tree.locator("[role=treeitem][tabindex='0']").focus();
  await page.keyboard.press("End");
  await expect(page.locator("[role=tree] [role=treeitem]:focus")).toHaveCount(1);

  for (const size of SIZES) {
    await page.setViewportSize(size);
    await job.scrollIntoViewIfNeeded();
    await page.screenshot({ path: `${RESULTS}workbench-cluster-view-${size.width}x${size.height}.png` });
  }
  await page.setViewportSize({ width: 1366, height: 900 });

  // The delay from an object change to the page: 20 suspended Jobs (no pods), each timed from just
  // before its create call to the frame that draws it.
  await page.evaluate(() => {
    const seen: Record<string, number> = ((window as any).seenAt = {});
    new MutationObserver(() => {
      for (const el of document.querySelectorAll<HTMLElement>("[role=tree] [data-kind=Job]"))
        seen[el.dataset.name!] ??= Date.now();
    }).observe(document.querySelector("[role=tree]")!, { childList: true, subtree: true });
  });
  const delays: number[] = [];
  for (let i = 0; i < 20; i++) {
    const jobName = `view-${RUN}-d${i}`;
    const started = Date.now();
    await createJob(jobName, { completions: 1, suspend: true });
    await expect(item(page, "Job", jobName)).toBeAttached();
    const seenAt = await page.evaluate((n) => (window as any).seenAt[n] as number, jobName);
    delays.push(seenAt - started);
    await page.waitForTimeout(150);
  }
  const sorted = [...delays].sort((a, b) => a - b);
  const result = {
    changes: delays.length,
    p50Ms: percentile(sorted, 0.5),
    p95Ms: percentile(sorted, 0.95),
    maxMs: sorted.at(-1),
    delaysMs: delays,
    lessonJsGzipKB: Number(gzipKB.toFixed(1)),
    clusterViewChunkGzipKB: Number(((chunk?.[1] ?? 0) / 1024).toFixed(1)),
    load: (await import("node:os")).loadavg(),
  };
  mkdirSync(RESULTS, { recursive: true });
  writeFileSync(`${RESULTS}workbench-cluster-view-delay.json`, JSON.stringify(result, null, 2));
  console.log(`cluster view delay: ${JSON.stringify(result)}`);
  expect(result.p95Ms, "change → page p95 (the issue's target: 1 s)").toBeLessThanOrEqual(1000);

  // Closing the view ends its feed (its viewer slot is free again).
  await toggle.click();
  await expect(page.locator("#kubelab-cluster-view")).toBeHidden();
});

interface TerminalElement extends HTMLElement {
  tabs: { open: number[]; active: number };
}
const tabs = (page: Page) =>
  page.evaluate(() => (document.querySelector("kubelab-terminal") as unknown as TerminalElement).tabs);

test("terminal tabs are named windows of the tmux session, opened, switched and closed", async ({ page }) => {
  test.setTimeout(4 * 60_000);
  // A server slow to say its terminal limit (as under load) must not hold a new tab back: keys typed
  // right after opening one went to the button or the tab before while the page waited for it.
  await page.route("**/api/health", async (route) => {
    await new Promise((resolve) => setTimeout(resolve, 3000));
    await route.continue();
  });
  await openLesson(page, "/en/job/");
  const tablist = page.getByRole("tablist", { name: "Terminals" });
  await expect(tablist.getByRole("tab")).toHaveCount(1);
  await expect(page.locator(".kl-lab-tabs-hint")).toHaveText(
    "Each tab is a tmux window: Ctrl-b c, Ctrl-b n and Ctrl-b p work too",
  );
  await expect(page.locator("#kubelab-terminal-keys")).toContainText("Alt+Shift+N new");

  // Tab 1's window: tmux says its name and id.
  await runInTerminal(page, "tmux display -p 'WIN=#{window_name}/#{window_id}'");
  await expectTerminal(page, /^WIN=term-1\/@\d+$/m);
  const first = /^WIN=term-1\/(@\d+)$/m.exec(await terminalTextOf(page))![1];

  // A second tab by mouse, typed into at once (before its shell is there): a window of its own, named
  // after the tab, and every key reaches it in order.
  await page.getByRole("button", { name: "New terminal" }).click();
  await page.keyboard.type("tmux display -p 'WIN=#{window_name}/#{window_id}'");
  await page.keyboard.press("Enter");
  await expect(tablist.getByRole("tab")).toHaveCount(2);
  await expect(tablist.getByRole("tab", { name: "Terminal 2" })).toHaveAttribute("aria-selected", "true");
  await expect(page.locator("kubelab-terminal")).toHaveAttribute("data-state", "ready", { timeout: 60_000 });
  await expectTerminal(page, /^WIN=term-2\/@\d+$/m);
  const second = /^WIN=term-2\/(@\d+)$/m.exec(await terminalTextOf(page))![1];
  expect(second).not.toBe(first);
  await runInTerminal(page, "tmux list-windows -F '#{window_name}' | sort | tr '\\n' ' '; echo");
  await expectTerminal(page, /term-1 term-2/);

  for (const size of SIZES) {
    await page.setViewportSize(size);
    await page.screenshot({ path: `${RESULTS}workbench-terminal-tabs-${size.width}x${size.height}.png` });
  }
  await page.setViewportSize({ width: 1366, height: 900 });

  // Switch by mouse, then by keyboard (Alt+Shift+→ from inside the terminal).
  await tablist.getByRole("tab", { name: "Terminal 1" }).click();
  expect(await tabs(page)).toEqual({ open: [1, 2], active: 1 });
  await expect(page.locator("kubelab-terminal")).toHaveAttribute("data-state", "ready");
  await expectTerminal(page, /^WIN=term-1\//m);
  await page.keyboard.press("Alt+Shift+ArrowRight");
  expect(await tabs(page)).toEqual({ open: [1, 2], active: 2 });
  // The tab list's own arrows.
  await tablist.getByRole("tab", { name: "Terminal 2" }).focus();
  await page.keyboard.press("ArrowLeft");
  expect(await tabs(page)).toEqual({ open: [1, 2], active: 1 });

  // Close tab 2 by keyboard: its connection ends, tab 1 stays.
  await page.keyboard.press("ArrowRight");
  await page.locator(".kl-lab-tabpanel:not([hidden]) .xterm-helper-textarea").focus();
  await page.keyboard.press("Alt+Shift+KeyW");
  await expect(tablist.getByRole("tab")).toHaveCount(1);
  expect(await tabs(page)).toEqual({ open: [1], active: 1 });
  await expectTerminal(page, /^WIN=term-1\//m);
  expect(await terminalTextOf(page), "no key meant for tab 2 reached tab 1").not.toMatch(/command not found/);

  // Opened again by keyboard and typed into at once: tab 2 again, its window named term-2.
  await page.keyboard.press("Alt+Shift+KeyN");
  await page.keyboard.type("clear; tmux display -p 'AGAIN=#{window_name}'");
  await page.keyboard.press("Enter");
  expect(await tabs(page)).toEqual({ open: [1, 2], active: 2 });
  await expectTerminal(page, /^AGAIN=term-2$/m);
});

async function terminalTextOf(page: Page): Promise<string> {
  return page.evaluate(
    () => (document.querySelector("kubelab-terminal") as unknown as { getText(): string }).getText() ?? "",
  );
}

test("the exam's drawn values copy with one click, and it is said", async ({ page, context }) => {
  test.setTimeout(8 * 60_000);
  await context.grantPermissions(["clipboard-read", "clipboard-write"]);
  await openLesson(page, "/en/exam/");
  await page.getByRole("button", { name: "Start the exam" }).click();
  await expect(page.locator(".kl-exam-timer")).toBeVisible({ timeout: 240_000 });
  const attempt = new URL(page.url()).searchParams.get("attempt")!;
  try {
    const view = await (await page.request.get(`/api/exam/attempt?id=${attempt}&locale=en`)).json();
    const drawn = (view.tasks[0].parts as { text: string; drawn?: true }[]).filter((p) => p.drawn);
    expect(drawn.length).toBeGreaterThan(0);
    const value = drawn[0]!.text;
    const button = page
      .locator(".kl-exam-tasks > li")
      .first()
      .getByRole("button", { name: `Copy ${value}` });
    await expect(button.first()).toBeVisible();
    // By keyboard: focus it, Enter.
    await button.first().focus();
    await page.keyboard.press("Enter");
    await expect(page.getByRole("status").filter({ hasText: `Copied ${value}` })).toHaveText(`Copied ${value}`);
    expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(value);
    // By mouse, another value when there is one.
    const other = drawn.find((d) => d.text !== value);
    if (other) {
      await page
        .locator(".kl-exam-tasks > li")
        .first()
        .getByRole("button", { name: `Copy ${other.text}` })
        .first()
        .click();
      expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(other.text);
    }
    for (const size of SIZES) {
      await page.setViewportSize(size);
      await page.screenshot({ path: `${RESULTS}workbench-exam-copy-${size.width}x${size.height}.png` });
    }
    await page.setViewportSize({ width: 1366, height: 900 });
    // The cluster view offers the exam's task namespaces beside the lab's.
    await page.getByRole("button", { name: "Cluster", exact: true }).click();
    const select = page.getByRole("combobox", { name: "Namespace", exact: true });
    await expect(select.locator("option")).toHaveCount(1 + view.tasks.length);
    await select.selectOption(view.tasks[1].namespace);
    await expect(page.locator("#kubelab-cluster-view h2")).toHaveText(
      `Live view of namespace ${view.tasks[1].namespace}`,
    );
    await page.getByRole("button", { name: "Cluster", exact: true }).click();
  } finally {
    await page.request.post("/api/exam/submit", { data: { id: attempt, locale: "en" } });
    const left = await core.listNamespace({ labelSelector: `${EXAM_LABEL}=${attempt}` });
    await Promise.all(left.items.map((ns) => core.deleteNamespace({ name: ns.metadata!.name! }).catch(() => {})));
  }
});
