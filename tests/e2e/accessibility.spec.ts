/**
 * axe-core (WCAG 2.1 A and AA rules) on the pages a learner and an
 * instructor use: no serious or critical violation. Each page is checked
 * once it has settled (a lesson's terminal connected). The class pages (join,
 * instructor sign-in, classes, a class's grid) need a namespace-mode server,
 * started here with a store and an instructor of its own; the access
 * sign-in (/login) one with an access password.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import AxeBuilder from "@axe-core/playwright";
import { expect, test, type Page } from "@playwright/test";
import { runCommand } from "../support/cluster.ts";
import { startServer, type ServerProcess } from "../support/server.ts";

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

/** Rows of the shown terminal tab (the docked panel shares its height with the editor and the cluster view). */
const terminalRows = (page: Page) =>
  page.evaluate(() => (window as unknown as { kubelabTerminal: { term: { rows: number } } }).kubelabTerminal.term.rows);

/**
 * What a narrow screen (800 px: the terminal docked below a lesson column 500 px wide) showed wrong
 * in Chinese: nothing wider than the window, no lesson table cut off, heading links named in the
 * page's language, and Escape then Tab or Shift+Tab leaves the terminal (the documented way out).
 */
async function expectFitsNarrowScreen(page: Page): Promise<void> {
  const widths = await page.evaluate(() => ({
    page: document.documentElement.scrollWidth,
    window: innerWidth,
    tables: [...document.querySelectorAll(".sl-markdown-content table")].map((t) => t.scrollWidth - t.clientWidth),
  }));
  expect(widths.page, "no horizontal overflow").toBeLessThanOrEqual(widths.window);
  expect(widths.tables.length, "the lesson has its table").toBeGreaterThan(0);
  expect(widths.tables, "no table wider than its column").toEqual(widths.tables.map(() => 0));
  const anchor = page.locator(".sl-anchor-link").first();
  await expect(anchor).toHaveAccessibleName(/^章节“.+”$/);
  await expect(page.locator("#kubelab-terminal-keys")).toContainText("先按 Esc 再按 Tab");
  const textarea = page.locator(".kl-lab-tabpanel:not([hidden]) .xterm-helper-textarea");
  for (const key of ["Tab", "Shift+Tab"]) {
    await textarea.focus();
    await page.keyboard.press("Escape");
    await page.keyboard.press(key);
    await expect(textarea, `Escape, then ${key}, leaves the terminal`).not.toBeFocused();
  }
}

for (const path of ["/en/job/", "/job/"]) {
  test(`the lesson ${path} has no serious accessibility violation`, async ({ page }) => {
    await page.goto(path);
    await expect(page.locator("kubelab-terminal")).toHaveAttribute("data-state", "ready", { timeout: 120_000 });
    await expectNoSeriousViolations(page, path);
  });
}

for (const [path, button] of [
  ["/en/job/", "Editor"],
  ["/job/", "编辑器"],
] as const) {
  test(`the workbench editor on ${path}: no serious violation, reached by keyboard, Escape leaves it`, async ({
    page,
  }) => {
    if (path === "/job/") await page.setViewportSize({ width: 800, height: 900 });
    await page.goto(path);
    await expect(page.locator("kubelab-terminal")).toHaveAttribute("data-state", "ready", { timeout: 120_000 });
    const toggle = page.getByRole("button", { name: button, exact: true });
    await toggle.focus();
    await page.keyboard.press("Enter");
    await expect(toggle).toHaveAttribute("aria-expanded", "true");
    const content = page.locator("[data-editor] .cm-content");
    await expect(content).toBeFocused();
    await expect(page.locator("[data-editor-status]")).toContainText(/job\.yaml/);
    expect(await terminalRows(page), "terminal lines left below the editor").toBeGreaterThanOrEqual(4);
    await expectNoSeriousViolations(page, `${path} with the editor open`);
    // Escape leaves the editor for its button (Tab indents inside it, so Tab alone would trap).
    await page.keyboard.press("Escape");
    await expect(toggle).toBeFocused();
    // And Tab comes back into it through the file bar: the path, Open, Save, Apply, then the text.
    const order: string[] = [];
    for (let i = 0; i < 8 && !(await content.evaluate((el) => el === document.activeElement)); i++) {
      await page.keyboard.press("Tab");
      order.push(
        await page.evaluate(() => document.activeElement?.textContent?.trim() || document.activeElement?.tagName || ""),
      );
    }
    await expect(content, `Tab order from the button: ${order.join(" → ")}`).toBeFocused();
  });
}

for (const path of ["/en/job/", "/job/"]) {
  test(`the workbench on ${path} (cluster view open, two terminal tabs) has no serious accessibility violation`, async ({
    page,
  }) => {
    // The Chinese lesson at 800 px wide (the docked layout), where its faults showed.
    if (path === "/job/") await page.setViewportSize({ width: 800, height: 900 });
    await page.goto(path);
    await expect(page.locator("kubelab-terminal")).toHaveAttribute("data-state", "ready", { timeout: 120_000 });
    if (path === "/job/") await expectFitsNarrowScreen(page);
    await page.locator("[data-cluster-toggle]").click();
    await expect(page.locator("[data-view-updated]")).not.toBeEmpty({ timeout: 30_000 });
    expect(await terminalRows(page), "terminal lines left beside the cluster view").toBeGreaterThanOrEqual(6);
    await page.locator(".kl-lab-tab-action").first().click();
    await expect(page.getByRole("tab")).toHaveCount(2);
    await expect(page.locator("kubelab-terminal")).toHaveAttribute("data-state", "ready", { timeout: 60_000 });
    await expectNoSeriousViolations(page, `${path} workbench`);
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

test.describe("the access sign-in (a server of its own behind an access password)", () => {
  const dir = mkdtempSync(join(tmpdir(), "kubelab-e2e-axe-access-"));
  let server: ServerProcess | undefined;
  test.beforeAll(async () => {
    test.setTimeout(300_000);
    server = await startServer(["--mode", "namespace"], {
      KUBELAB_STORE: join(dir, "progress.db"),
      KUBELAB_ACCESS_PASSWORD: "correct horse battery staple",
    });
  });
  test.afterAll(async () => {
    await server?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  for (const lang of ["en", "zh-CN"]) {
    test(`/login?lang=${lang}, and with a wrong password, has no serious accessibility violation`, async ({ page }) => {
      const response = await page.goto(`${server!.url}/login?lang=${lang}`);
      expect(response?.status(), "/login answers").toBe(200);
      await expectNoSeriousViolations(page, `/login?lang=${lang}`);
      await page.locator('input[name="password"]').fill("not the password");
      await page.locator('button[type="submit"]').click();
      await expect(page.getByRole("alert")).toBeVisible();
      await expectNoSeriousViolations(page, `/login?lang=${lang} after a wrong password`);
    });
  }
});

test.describe("a class's pages (a namespace-mode server of its own)", () => {
  const PASSWORD = "correct horse battery staple";
  const dir = mkdtempSync(join(tmpdir(), "kubelab-e2e-axe-"));
  const env = { KUBELAB_STORE: join(dir, "progress.db") };
  let server: ServerProcess | undefined;
  let endClass: (() => Promise<unknown>) | undefined;
  test.beforeAll(async () => {
    test.setTimeout(300_000);
    const added = await runCommand(
      process.execPath,
      ["--disable-warning=ExperimentalWarning", "src/cli/main.ts", "instructor", "add", "ana"],
      { env, input: PASSWORD },
    );
    expect(added.code, added.stderr).toBe(0);
    server = await startServer(["--mode", "namespace"], env);
  });
  test.afterAll(async () => {
    await endClass?.().catch(() => {});
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

  test("the instructor's pages (classes, a class's grid) have no serious accessibility violation", async ({ page }) => {
    test.setTimeout(240_000);
    await page.goto(`${server!.url}/instructor/login?lang=en`);
    await page.getByLabel("Instructor name").fill("ana");
    await page.getByLabel("Password").fill(PASSWORD);
    await page.getByRole("button", { name: "Sign in" }).click();
    await expect(page.getByRole("heading", { name: "Create a class" })).toBeVisible();
    await expectNoSeriousViolations(page, "the instructor's classes page");

    await page.getByLabel("Name", { exact: true }).fill("Axe group");
    await page.getByLabel("Places (labs started ahead)").fill("1");
    await page.getByRole("button", { name: "Create a class" }).click();
    await expect(page.locator("#join-code")).toHaveText(/^[A-Z0-9]{3}-[A-Z0-9]{3}$/, { timeout: 30_000 });
    const classId = /\/instructor\/class\/([\w-]+)/.exec(page.url())![1];
    const csrf = await page.evaluate(
      () => JSON.parse(document.getElementById("kubelab-instructor-data")!.textContent!).csrf as string,
    );
    // Not through the page's context: Playwright closes it after the test, before afterAll, and the
    // class (with its pool lab) was then left running on the cluster.
    const cookie = (await page.context().cookies()).map((c) => `${c.name}=${c.value}`).join("; ");
    endClass = () =>
      fetch(`${server!.url}/api/instructor/classes/${classId}/end`, {
        method: "POST",
        headers: { cookie, "x-kubelab-csrf": csrf, origin: server!.url },
      });
    await expect(page.locator("#live")).toHaveAttribute("data-live", "true");
    await expectNoSeriousViolations(page, "a class's grid");
  });
});
