/**
 * A class in Chromium, three browser contexts against a namespace-mode lab
 * server of its own (own port and store): the instructor signs in and
 * creates a class; two learners join with its code and land on the Job
 * lesson with their own labs; one passes job/echo and the instructor's grid
 * shows it within 2 s; the grid's CSV holds it; the instructor resets the
 * other learner's lab (their ConfigMap goes) and watches their terminal,
 * read-only.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect, test, type Browser, type BrowserContext, type Page } from "@playwright/test";
import { eventually, kubectl, runCommand, typedSolution } from "../support/cluster.ts";
import { startServer, type ServerProcess } from "../support/server.ts";
import { expectTerminal, runInTerminal } from "./support.ts";

const PASSWORD = "correct horse battery staple";
const dir = mkdtempSync(join(tmpdir(), "kubelab-e2e-class-"));
const env = { KUBELAB_STORE: join(dir, "progress.db") };
let server: ServerProcess | undefined;
let endClass: (() => Promise<unknown>) | undefined;
// The three people's browser contexts: closed at the end, or their pages (terminals,
// the grid's event stream) go on reconnecting in the browser the next specs share.
const contexts: BrowserContext[] = [];
const newPage = async (browser: Browser, baseURL: string) => {
  const context = await browser.newContext({ baseURL });
  contexts.push(context);
  return context.newPage();
};

test.afterAll(async () => {
  // The class ends first: it asks through the instructor's browser context, which must still be open.
  await endClass?.().catch(() => {});
  await Promise.all(contexts.map((c) => c.close().catch(() => {})));
  await server?.stop();
  rmSync(dir, { recursive: true, force: true });
});

async function joinAs(browser: Browser, url: string, code: string, name: string): Promise<Page> {
  const page = await newPage(browser, url);
  await page.goto("/join?lang=en");
  await page.getByLabel("Class code").fill(code);
  await page.getByLabel("Your name").fill(name);
  await page.getByRole("button", { name: "Join" }).click();
  await expect(page).toHaveURL(/\/en\/job\/$/);
  await expect(page.locator("kubelab-terminal")).toHaveAttribute("data-state", "ready", { timeout: 120_000 });
  return page;
}

test("an instructor runs a class of two learners: grid within 2 s, CSV, reset, read-only terminal", async ({
  browser,
}) => {
  test.setTimeout(600_000);
  const added = await runCommand(
    process.execPath,
    ["--disable-warning=ExperimentalWarning", "src/cli/main.ts", "instructor", "add", "ana"],
    { env, input: PASSWORD },
  );
  expect(added.code, added.stderr).toBe(0);
  server = await startServer(["--mode", "namespace"], env);

  // The instructor signs in and creates a class of two.
  const teacher = await newPage(browser, server.url);
  await teacher.goto("/instructor/login?lang=en");
  await teacher.getByLabel("Instructor name").fill("ana");
  await teacher.getByLabel("Password").fill(PASSWORD);
  await teacher.getByRole("button", { name: "Sign in" }).click();
  await expect(teacher.getByRole("heading", { name: "Create a class" })).toBeVisible();
  await teacher.getByLabel("Name", { exact: true }).fill("Tuesday group");
  await teacher.getByLabel("Places (labs started ahead)").fill("2");
  await teacher.getByRole("button", { name: "Create a class" }).click();
  const code = (await teacher.locator("#join-code").textContent({ timeout: 30_000 }))!.trim();
  expect(code).toMatch(/^[A-Z0-9]{3}-[A-Z0-9]{3}$/);
  const classId = /\/instructor\/class\/([\w-]+)/.exec(teacher.url())![1];
  const csrf = await teacher.evaluate(
    () => JSON.parse(document.getElementById("kubelab-instructor-data")!.textContent!).csrf as string,
  );
  endClass = () =>
    teacher.request.post(`/api/instructor/classes/${classId}/end`, {
      headers: { "x-kubelab-csrf": csrf, origin: server!.url },
    });
  await expect(teacher.locator("#live")).toHaveAttribute("data-live", "true");

  // Two learners join with the code (typed lower-case, as people do).
  const li = await joinAs(browser, server.url, code.toLowerCase(), "Li Lei");
  const han = await joinAs(browser, server.url, code, "Han Meimei");
  await expect(teacher.locator("#grid tr[data-learner]")).toHaveCount(2, { timeout: 15_000 });

  // Li passes job/echo; the grid shows it within 2 s of the Check's answer.
  await runInTerminal(li, typedSolution("job/echo"));
  await expectTerminal(li, /job.batch\/echo condition met/, 120_000);
  const check = li.locator('kubelab-check[exercise="job/echo"]');
  await check.locator("button[data-check]").click();
  await expect(check).toHaveAttribute("data-state", "passed", { timeout: 90_000 });
  const answered = Date.now();
  const cell = teacher.locator("#grid tr[data-learner]", { hasText: "Li Lei" }).locator('td[data-exercise="job/echo"]');
  await expect(cell).toHaveAttribute("data-passed", "true", { timeout: 2000 });
  console.log(`grid showed the pass ${Date.now() - answered} ms after the Check answered`);
  await cell.click();
  await expect(teacher.locator("#checks li").first()).toContainText("✔");

  // The CSV holds it.
  const csv = await (await teacher.request.get(`/api/instructor/classes/${classId}/grid.csv`)).text();
  expect(csv).toMatch(/Li Lei,\d+,\d+,1,yes/);
  const attempts = await (await teacher.request.get(`/api/instructor/classes/${classId}/attempts.csv`)).text();
  expect(attempts).toMatch(/Li Lei,job\/echo,yes/);

  // Han made something; the instructor resets Han's lab and it is gone.
  const hanLab = (await (await han.request.get("/api/lab")).json()) as { namespace: string };
  const made = await kubectl(["-n", hanLab.namespace, "create", "configmap", "leftover", "--from-literal=a=b"]);
  expect(made.code, made.stderr).toBe(0);
  await teacher.locator("#grid tr[data-learner] th a", { hasText: "Han Meimei" }).click();
  teacher.once("dialog", (d) => void d.accept());
  await teacher.getByRole("button", { name: "Reset lab" }).click();
  await eventually(
    async () => (await kubectl(["-n", hanLab.namespace, "get", "configmap", "leftover"])).code !== 0,
    "Han's ConfigMap deleted",
    60_000,
  );

  // The instructor watches Han's terminal: Han's typing shows; the view takes no keys.
  await teacher.getByRole("button", { name: "Watch terminal (read-only)" }).click();
  await expect(teacher.locator("#watch .xterm")).toBeVisible();
  await runInTerminal(han, "echo WATCHED-$((6*7))");
  await expect(teacher.locator("#watch .xterm-rows")).toContainText("WATCHED-42", { timeout: 20_000 });
  await teacher.locator("#watch .xterm").click();
  await teacher.keyboard.type("echo INSTRUCTOR-TYPED\n");
  await han.waitForTimeout(1500);
  const hanScreen = await han.evaluate(() =>
    (document.querySelector("kubelab-terminal") as HTMLElement & { getText(): string }).getText(),
  );
  expect(hanScreen).not.toContain("INSTRUCTOR-TYPED");
  await teacher.screenshot({ path: "test-results/e2e/screenshots/class-grid.png", fullPage: true });
});
