/**
 * axe-core (WCAG 2.1 A and AA rules) on the pages a learner and an
 * instructor use: no serious or critical violation. Each page is checked
 * once it has settled (a lesson's terminal connected). The class pages (join,
 * instructor sign-in) need a namespace-mode server, started here.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import AxeBuilder from "@axe-core/playwright";
import { expect, test, type Page } from "@playwright/test";
import { startServer, type ServerProcess } from "../security/server-support.ts";

async function expectNoSeriousViolations(page: Page, what: string): Promise<void> {
  const results = await new AxeBuilder({ page }).withTags(["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]).analyze();
  const serious = results.violations.filter((v) => v.impact === "serious" || v.impact === "critical");
  const report = serious.map(
    (v) =>
      `${v.impact} ${v.id}: ${v.help}\n  ${v.nodes
        .map((n) => n.target.join(" "))
        .slice(0, 5)
        .join("\n  ")}`,
  );
  console.log(`${what}: ${results.violations.length} violations, ${serious.length} serious or critical`);
  expect(report, `serious or critical accessibility violations on ${what}`).toEqual([]);
}

for (const path of ["/en/job/", "/job/"]) {
  test(`the lesson ${path} has no serious accessibility violation`, async ({ page }) => {
    await page.goto(path);
    await expect(page.locator("kubelab-terminal")).toHaveAttribute("data-state", "ready", { timeout: 120_000 });
    await expectNoSeriousViolations(page, path);
  });
}

for (const path of ["/en/exam/", "/exam/", "/en/progress/", "/progress/"]) {
  test(`${path} has no serious accessibility violation`, async ({ page }) => {
    const response = await page.goto(path);
    expect(response?.status(), `${path} answers`).toBeLessThan(400);
    await page.waitForLoadState("networkidle").catch(() => {});
    await expectNoSeriousViolations(page, path);
  });
}

test.describe("a class's pages (a namespace-mode server of its own)", () => {
  const dir = mkdtempSync(join(tmpdir(), "kubelab-e2e-axe-"));
  let server: ServerProcess | undefined;
  test.beforeAll(async () => {
    test.setTimeout(300_000);
    server = await startServer(["--mode", "namespace"], { KUBELAB_STORE: join(dir, "progress.db") });
  });
  test.afterAll(async () => {
    await server?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  for (const path of ["/join?lang=en", "/join?lang=zh-CN", "/instructor/login"]) {
    test(`${path} has no serious accessibility violation`, async ({ page }) => {
      const response = await page.goto(`${server!.url}${path}`);
      expect(response?.status(), `${path} answers`).toBeLessThan(400);
      await expectNoSeriousViolations(page, path);
    });
  }
});
