/**
 * The Job lesson, as a learner does it: open the page, wait for the shell,
 * press Check too early (it fails, with a hint), create the Job the way the
 * chapter says, watch the Pod complete and read its log in the terminal,
 * press Check again (it passes). zh-CN clicks the lesson's own Run buttons
 * (write job.yaml, kubectl create -f job.yaml); English types the imperative
 * route into the terminal by keyboard.
 */
import { fileURLToPath } from "node:url";
import { expect, test, type Locator, type Page } from "@playwright/test";
import { clearTerminal, expectTerminal, openLesson, resetLab, terminalText } from "./support.ts";

const SCREENSHOTS = fileURLToPath(new URL("../../test-results/e2e/screenshots/", import.meta.url));

/** The pod line `kubectl get po` prints once the Job's Pod has finished. */
const POD_COMPLETED = /^echo-[a-z0-9]{5}\s+0\/1\s+Completed\s+0\s+/m;
/** The Pod's log: a line that is exactly the greeting (the typed commands contain it too, quoted or indented). */
const HELLO_LINE = /^Hello, Job$/m;

test.beforeEach(async ({ request }) => {
  await resetLab(request);
});

/** The Run button under the code block whose source is exactly `code`. */
function runButtonFor(page: Page, code: string): Locator {
  return page.locator(`.expressive-code:has(.copy button[data-code="${code}"]) + .kl-run-bar .kl-run`).first();
}

async function pressCheck(page: Page): Promise<Locator> {
  const check = page.locator('kubelab-check[exercise="job/echo"]');
  const button = check.locator("button[data-check]");
  await button.scrollIntoViewIfNeeded();
  await button.click();
  await expect(check).not.toHaveAttribute("data-state", "running", { timeout: 90_000 });
  return check;
}

async function expectCheckFailsWithHint(page: Page): Promise<void> {
  const check = await pressCheck(page);
  await expect(check).toHaveAttribute("data-state", "failed");
  const failed = check.locator('li[data-check][data-state="failed"]');
  await expect(failed.first()).toBeVisible();
  await expect(failed.first().locator(".kl-check-hint")).toBeVisible();
  await expect(failed.first().locator(".kl-check-hint")).not.toBeEmpty();
  const result = await check.evaluate(
    (el) => (el as HTMLElement & { result?: { passed: boolean; exercise: string } }).result,
  );
  expect(result).toMatchObject({ exercise: "job/echo", passed: false });
}

async function expectCheckPasses(page: Page): Promise<void> {
  const check = await pressCheck(page);
  await expect(check).toHaveAttribute("data-state", "passed");
  await expect(
    check.locator('li[data-check][data-state="failed"], li[data-check][data-state="infra-error"]'),
  ).toHaveCount(0);
  expect(await check.locator('li[data-check][data-state="passed"]').count()).toBeGreaterThan(0);
  const result = await check.evaluate(
    (el) => (el as HTMLElement & { result?: { passed: boolean; score: number; maxScore: number } }).result,
  );
  expect(result?.passed).toBe(true);
  expect(result?.score).toBe(result?.maxScore);
}

/**
 * Run `kubectl get po` (by `submit`) until the Pod shows Completed, then
 * `kubectl logs job/echo` until the greeting is there.
 */
async function watchJobFinish(page: Page, submit: (command: string) => Promise<void>): Promise<void> {
  await expect(async () => {
    await clearTerminal(page);
    await submit("kubectl get po");
    await expectTerminal(page, POD_COMPLETED, 5_000);
  }).toPass({ timeout: 90_000, intervals: [1000, 2000] });
  await submit("kubectl logs job/echo");
  await expectTerminal(page, HELLO_LINE, 30_000);
  // Both in the terminal at once, for the screenshot.
  const text = await terminalText(page);
  expect(text).toMatch(POD_COMPLETED);
  expect(text).toMatch(HELLO_LINE);
}

async function screenshot(page: Page, name: string): Promise<void> {
  // The passed Check result beside the terminal with the Pod and its log.
  await page.locator('kubelab-check[exercise="job/echo"]').evaluate((el) => el.scrollIntoView({ block: "center" }));
  await page.screenshot({ path: `${SCREENSHOTS}${name}.png` });
}

test("zh-CN: the Job lesson with its Run buttons", async ({ page }) => {
  await openLesson(page, "/job/");
  await expect(page.locator("html")).toHaveAttribute("lang", "zh-CN");
  await expect(page.locator(".expressive-code .copy button").first()).toHaveAttribute("title", "复制到剪贴板");

  await expectCheckFailsWithHint(page);

  // Write job.yaml with the YAML block's button, then create it with the next block's Run.
  const write = page.locator('.kl-run[data-run="write"]', { hasText: /\bjob\.yaml$/ });
  await expect(write).toHaveCount(1);
  await write.click();
  await expectTerminal(page, /^> EOF\n\[root@master pod\]#\s*$/m);
  await runButtonFor(page, "kubectl create -f job.yaml").click();
  await expectTerminal(page, /^job\.batch\/echo created$/m);

  await watchJobFinish(page, (command) => runButtonFor(page, command).click());

  await expectCheckPasses(page);
  await screenshot(page, "job-zh-CN");
});

test("en: the Job lesson typed into the terminal", async ({ page }) => {
  await openLesson(page, "/en/job/");
  await expect(page.locator("html")).toHaveAttribute("lang", "en");
  // Code blocks speak the page's language too (they used to fall back to the zh-CN labels).
  await expect(page.locator(".expressive-code .copy button").first()).toHaveAttribute("title", "Copy to clipboard");

  await expectCheckFailsWithHint(page);

  const type = async (command: string) => {
    await page.locator("kubelab-terminal .xterm").click();
    await page.keyboard.type(command);
    await page.keyboard.press("Enter");
  };
  await type('kubectl create job echo --image=busybox -- echo "Hello, Job"');
  await expectTerminal(page, /^job\.batch\/echo created$/m);

  await watchJobFinish(page, type);

  await expectCheckPasses(page);
  await screenshot(page, "job-en");
});
