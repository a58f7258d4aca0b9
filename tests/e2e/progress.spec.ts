/**
 * Progress that lasts, in Chromium against a lab server of its own (its own
 * port and store, so it can be restarted): a Check that fails, the reference
 * solution revealed (after a confirmation) and run from its blocks, job/echo
 * passed; a reload shows the result on the Check panel and the lesson's mark
 * in the sidebar; the server process is killed and started again on the same
 * store: the same learner, the same lab (toolbox pod uid unchanged), the
 * progress still shown, on the "My progress" page too; the learner's export
 * holds the attempts and the solution-revealed event.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { expect, test, type Browser, type Page } from "@playwright/test";
import { kubectl } from "../support/cluster.ts";
import { startServer, type ServerProcess } from "../support/server.ts";
import { clearTerminal, resetLab } from "./support.ts";

const SCREENSHOTS = fileURLToPath(new URL("../../test-results/e2e/screenshots/", import.meta.url));
const dir = mkdtempSync(join(tmpdir(), "kubelab-e2e-progress-"));
const env = { KUBELAB_STORE: join(dir, "progress.db") };
let server: ServerProcess | undefined;

test.afterAll(async () => {
  await server?.stop();
  rmSync(dir, { recursive: true, force: true });
});

async function toolboxUid(): Promise<string> {
  const r = await kubectl(["-n", "kubelab-local", "get", "pod", "toolbox", "-o", "jsonpath={.metadata.uid}"]);
  expect(r.code, r.stderr).toBe(0);
  return r.stdout.trim();
}

async function openJob(
  browser: Browser,
  url: string,
  storageState?: Awaited<ReturnType<import("@playwright/test").BrowserContext["storageState"]>>,
): Promise<Page> {
  const context = await browser.newContext({ baseURL: url, storageState });
  const page = await context.newPage();
  await page.goto("/en/job/");
  await expect(page.locator("kubelab-terminal")).toHaveAttribute("data-state", "ready", { timeout: 120_000 });
  return page;
}

async function pressCheck(page: Page) {
  const check = page.locator('kubelab-check[exercise="job/echo"]');
  await check.locator("button[data-check]").click();
  await expect(check).not.toHaveAttribute("data-state", "running", { timeout: 90_000 });
  return check;
}

test("progress survives a reload and a server restart; a revealed solution is in the export", async ({ browser }) => {
  test.setTimeout(600_000);
  server = await startServer([], env);
  let page = await openJob(browser, server.url);
  await resetLab(page.request);
  await clearTerminal(page);
  const check = page.locator('kubelab-check[exercise="job/echo"]');
  await expect(check.locator("[data-progress]")).toHaveText(/Not attempted yet/);

  // A Check too early: it fails, and is kept.
  await expect(await pressCheck(page)).toHaveAttribute("data-state", "failed");
  await expect(check.locator("[data-progress]")).toContainText("Best: 0 / ");

  // One failure: the solution is offered behind a confirmation.
  const solution = check.locator("[data-solution-button]");
  await expect(solution).toHaveText("Show the solution…");
  page.once("dialog", (dialog) => void dialog.accept());
  await solution.click();
  const blocks = check.locator("[data-solution] .kl-solution-block");
  await expect(blocks.first()).toBeVisible();
  await expect(blocks.first().locator("pre")).toContainText("kubectl delete job echo --ignore-not-found");
  await expect(blocks.nth(1).locator("pre")).toContainText("kubectl create -f - <<'YAML'");
  // Its blocks run in the terminal: start clean, create the Job, wait for it.
  await blocks.nth(0).locator("button.kl-run").click();
  await blocks.nth(1).locator("button.kl-run").click();
  await blocks.nth(2).locator("button.kl-run").click();
  await expect(async () => {
    await expect(await pressCheck(page)).toHaveAttribute("data-state", "passed", { timeout: 1000 });
  }).toPass({ timeout: 120_000, intervals: [2000] });

  // Reload: the best result, the last attempt and the sidebar's mark are there.
  await page.reload();
  await expect(check).toHaveAttribute("data-best", "passed");
  await expect(check.locator("[data-progress]")).toContainText(/✓ Best: (\d) \/ \1/);
  await expect(check.locator("[data-progress]")).toContainText(/\d+ attempts/);
  const jobLink = page.locator('nav.sidebar a[href="/en/job/"]');
  await expect(jobLink).toHaveAttribute("data-progress", "partial");
  await expect(jobLink.locator(".kl-lesson-mark")).toHaveText("◐");
  await check.screenshot({ path: `${SCREENSHOTS}progress-check-en.png` });

  const before = await (await page.request.get("/api/progress")).json();
  const uid = await toolboxUid();
  const cookies = await page.context().storageState();
  await page.context().close();

  // The server dies (kill -9) and comes back on the same store.
  process.kill(server.pid, "SIGKILL");
  await server.stop();
  server = await startServer([], env);
  page = await openJob(browser, server.url, cookies);
  const after = await (await page.request.get("/api/progress")).json();
  expect(after.learner.id).toBe(before.learner.id);
  expect(after.exercises).toEqual(before.exercises);
  expect(await toolboxUid()).toBe(uid);
  await expect(page.locator('kubelab-check[exercise="job/echo"]')).toHaveAttribute("data-best", "passed");
  await expect(page.locator('nav.sidebar a[href="/en/job/"]')).toHaveAttribute("data-progress", "partial");

  // "My progress": the chapter's chart and table.
  await page.goto("/en/progress/");
  const row = page.locator('kubelab-progress tr[data-exercise="job/echo"]');
  await expect(row).toHaveAttribute("data-state", "passed");
  await expect(row).toContainText("solution shown");
  await expect(
    page.locator('section[data-chapter="/en/job/"] svg.kl-progress-chart rect.bar[data-state="passed"]'),
  ).toHaveCount(1);
  await page.screenshot({ path: `${SCREENSHOTS}progress-page-en.png`, fullPage: true });
  await page.goto("/progress/");
  await expect(page.locator('kubelab-progress tr[data-exercise="job/echo"]')).toHaveAttribute("data-state", "passed");
  await expect(page.locator("h1")).toHaveText("我的进度");
  await page.screenshot({ path: `${SCREENSHOTS}progress-page-zh-CN.png`, fullPage: true });

  // The learner's own export: the attempts and the solution revealed.
  const download = page.waitForEvent("download");
  await page.goto("/en/progress/");
  await page.locator("[data-download]").click();
  const file = await (await download).path();
  const exported = JSON.parse((await import("node:fs")).readFileSync(file, "utf8"));
  expect(exported.format).toBe("kubelab-progress");
  expect(exported.events.map((e: { kind: string }) => e.kind)).toContain("solution-revealed");
  expect(exported.events.find((e: { kind: string }) => e.kind === "solution-revealed").exercise).toBe("job/echo");
  expect(exported.attempts.filter((a: { passed: boolean }) => a.passed).length).toBeGreaterThan(0);
  expect(exported.attempts.length).toBe(after.exercises[0].attempts);
  await page.context().close();
});
