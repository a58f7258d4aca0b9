/**
 * The mock exam in Chromium, as a candidate sits it: open the exam page,
 * start the exam; the page's terminal becomes the exam's shell, with one
 * kubectl context per task and `k` completing like kubectl. Switch to task
 * 1's context and solve it (job/echo), switch to task 2's and solve it
 * (job/completions), then solve task 3 (job/parallel) forgetting to switch
 * — in task 2's namespace. Reload mid-exam (the timer goes on from the
 * server's deadline; the shell keeps its context), find the lessons closed
 * (their pages lead to the exam), submit: the report gives the two tasks
 * full marks, task 3 none with the wrong-namespace line, a total between 0
 * and the pass mark, and the terminal is the lessons' shell again.
 * Everything is real cluster state made through the page's terminal; the
 * attempt's namespaces are removed by the server after the report, and by
 * this spec if it fails before.
 */
import { fileURLToPath } from "node:url";
import { CoreV1Api, KubeConfig } from "@kubernetes/client-node";
import { expect, test, type Page } from "@playwright/test";
import { providerFromEnv } from "../../src/cluster/providers.ts";
import { clearTerminal, expectTerminal, openLesson, runInTerminal, sendInput } from "./support.ts";

const SCREENSHOTS = fileURLToPath(new URL("../../test-results/e2e/screenshots/", import.meta.url));
const EXAM_LABEL = "kubelab.dev/exam-attempt";

interface TaskView {
  id: string;
  context: string;
  namespace: string;
  weight: number;
  text: string;
}
interface AttemptView {
  id: string;
  endsAt: string;
  remainingSeconds: number;
  tasks: TaskView[];
  submitted: boolean;
}

const kc = new KubeConfig();
kc.loadFromFile(process.env.KUBECONFIG ?? providerFromEnv().kubeconfigPath());
const core = kc.makeApiClient(CoreV1Api);

let attemptId: string | undefined;

test.afterAll(async () => {
  if (!attemptId) return;
  // An attempt the test left running: its namespaces go here, whatever the server did.
  const left = await core.listNamespace({ labelSelector: `${EXAM_LABEL}=${attemptId}` });
  await Promise.all(left.items.map((ns) => core.deleteNamespace({ name: ns.metadata!.name! }).catch(() => {})));
});

/** A task's text matched against `pattern`: the values this attempt drew. */
function drawn(task: TaskView, pattern: RegExp): string[] {
  const m = pattern.exec(task.text);
  expect(m, `task ${task.id} "${task.text}" should match ${pattern}`).not.toBeNull();
  return m!.slice(1);
}

/** The seconds the page's timer shows ("Time left: 119:42"). */
async function timerSeconds(page: Page): Promise<number> {
  const text = (await page.locator(".kl-exam-timer").textContent()) ?? "";
  const m = /(\d+):(\d\d)/.exec(text);
  expect(m, `timer text "${text}"`).not.toBeNull();
  return Number(m![1]) * 60 + Number(m![2]);
}

/**
 * Wait until the page's terminal is a shell whose current context is
 * `context` (the page reconnects it when the exam starts and ends), then
 * leave it cleared.
 */
async function shellOnContext(page: Page, context: string): Promise<void> {
  await expect(async () => {
    await expect(page.locator("kubelab-terminal")).toHaveAttribute("data-state", "ready");
    await clearTerminal(page);
    await runInTerminal(page, "kubectl config current-context");
    await expectTerminal(page, new RegExp(`^${context}$`, "m"), 5_000);
  }).toPass({ timeout: 120_000, intervals: [500, 1000, 2000] });
  await clearTerminal(page);
}

/** A Job manifest typed as a here-document (into the current context's namespace), one line per terminal line. */
function jobHeredoc(name: string, spec: Record<string, number>): string {
  return [
    `k create -f - <<EOF`,
    "apiVersion: batch/v1",
    "kind: Job",
    "metadata:",
    `  name: ${name}`,
    "spec:",
    ...Object.entries(spec).map(([k, v]) => `  ${k}: ${v}`),
    "  template:",
    "    spec:",
    "      restartPolicy: Never",
    "      containers:",
    "      - name: work",
    "        image: busybox",
    '        command: ["sh", "-c", "sleep 1"]',
    "EOF",
  ].join("\n");
}

test("en: start the exam, solve two tasks, one in the wrong namespace, reload, submit", async ({ page }) => {
  test.setTimeout(15 * 60_000);
  await openLesson(page, "/en/exam/");
  await page.getByRole("button", { name: "Start the exam" }).click();
  await expect(page.locator(".kl-exam-timer")).toBeVisible({ timeout: 240_000 });
  attemptId = new URL(page.url()).searchParams.get("attempt") ?? undefined;
  expect(attemptId).toBeTruthy();
  const view = (await (await page.request.get(`/api/exam/attempt?id=${attemptId}&locale=en`)).json()) as AttemptView;
  const [echo, steps, crunch] = view.tasks;
  // The page lists every task with its context line.
  await expect(page.locator(".kl-exam-tasks > li")).toHaveCount(view.tasks.length);
  await expect(page.locator(".kl-exam-tasks > li").first().locator("code")).toHaveText(
    `kubectl config use-context ${echo!.context}`,
  );

  // The terminal is the exam's shell now: a context per task, on the task's namespace, the first one current.
  await shellOnContext(page, "task-1");
  await runInTerminal(page, "k config get-contexts --no-headers | wc -l; k config get-contexts task-3 --no-headers");
  await expectTerminal(page, new RegExp(`^${view.tasks.length}$`, "m"));
  await expectTerminal(page, new RegExp(`^\\s+task-3\\s+kubelab\\s+learner\\s+${crunch!.namespace}$`, "m"));
  await runInTerminal(page, 'k config current-context; command -v vim tmux; [ -n "$TMUX" ] && echo IN-TMUX');
  await expectTerminal(page, /^task-1\n\/usr\/bin\/vim\n\/usr\/bin\/tmux\nIN-TMUX$/m);

  // Task 1 in its context, typed with `k` and completion: Tab completes "use-cont" to "use-context".
  await clearTerminal(page);
  await sendInput(page, "k config use-cont\t");
  await expectTerminal(page, /^\[root@master pod\]# k config use-context $/m);
  await runInTerminal(page, echo!.context);
  await expectTerminal(page, new RegExp(`^Switched to context "${echo!.context}"\\.$`, "m"));
  const [echoName, echoText] = drawn(echo!, /Create a Job (\S+) \(image busybox\) whose pod prints exactly “(.+)”/);
  await runInTerminal(page, `k create job ${echoName} --image=busybox -- echo "${echoText}"`);
  await expectTerminal(page, new RegExp(`^job\\.batch/${echoName} created$`, "m"));

  // Task 2: the drawn number of completions, one pod at a time.
  const [stepsName, completions] = drawn(
    steps!,
    /Create a Job (\S+) that needs (\d+) successful pods, run one after another/,
  );
  await clearTerminal(page);
  await runInTerminal(page, `kubectl config use-context ${steps!.context}`);
  await runInTerminal(page, jobHeredoc(stepsName!, { completions: Number(completions), parallelism: 1 }));
  await expectTerminal(page, new RegExp(`^job\\.batch/${stepsName} created$`, "m"));

  // Task 3, solved right but without switching context: in task 2's namespace.
  const [crunchName, crunchCompletions, parallelism] = drawn(
    crunch!,
    /Create a Job (\S+) that needs (\d+) successful pods, at most (\d+) running at once/,
  );
  await clearTerminal(page);
  await runInTerminal(
    page,
    jobHeredoc(crunchName!, {
      completions: Number(crunchCompletions),
      parallelism: Number(parallelism),
    }),
  );
  await expectTerminal(page, new RegExp(`^job\\.batch/${crunchName} created$`, "m"));

  // Reload mid-exam: the timer goes on from the server's deadline.
  const before = await timerSeconds(page);
  const reloadedAt = Date.now();
  await page.reload();
  await expect(page.locator(".kl-exam-timer")).toBeVisible();
  const after = await timerSeconds(page);
  const elapsed = (Date.now() - reloadedAt) / 1000;
  expect(after).toBeLessThanOrEqual(before);
  expect(before - after).toBeLessThanOrEqual(Math.ceil(elapsed) + 2);
  // …and agrees with the deadline the server stored at the start.
  expect(Math.abs(after - (Date.parse(view.endsAt) - Date.now()) / 1000)).toBeLessThanOrEqual(3);
  const again = (await (await page.request.get(`/api/exam/attempt?id=${attemptId}&locale=en`)).json()) as AttemptView;
  expect(again.endsAt).toBe(view.endsAt);

  // Lessons are hidden while the exam runs: the server sends their pages to the exam.
  await page.goto("/en/job/");
  await expect(page).toHaveURL(/\/en\/exam\/$/);
  await expect(page.locator(".kl-exam-timer")).toBeVisible();
  await expect(page.locator("kubelab-check")).toHaveCount(0);

  // The shell after the reloads is the same exam shell, still on task 2's context.
  await shellOnContext(page, steps!.context);
  // Both tasks done in the cluster before submitting, watched from the terminal.
  await runInTerminal(
    page,
    `k --context ${echo!.context} wait --for=condition=complete job/${echoName} --timeout=120s && k wait --for=condition=complete job/${stepsName} --timeout=120s && echo BOTH-DONE`,
  );
  await expectTerminal(page, /^BOTH-DONE$/m, 180_000);

  page.on("dialog", (dialog) => void dialog.accept());
  await page.getByRole("button", { name: "Submit" }).click();
  const total = page.locator(".kl-exam-total");
  await expect(total).toBeVisible({ timeout: 300_000 });
  const sections = page.locator("section.kl-exam-task");
  await expect(sections.nth(0).locator("h3")).toHaveText(`${echo!.id} · ${echo!.weight} / ${echo!.weight}`);
  await expect(sections.nth(1).locator("h3")).toHaveText(`${steps!.id} · ${steps!.weight} / ${steps!.weight}`);
  await expect(sections.nth(2).locator("h3")).toHaveText(`${crunch!.id} · 0 / ${crunch!.weight}`);
  await expect(sections.nth(2).locator(".kl-exam-wrong-ns")).toHaveText(
    `Job ${crunchName} is in namespace ${steps!.namespace}; this task's namespace is ${crunch!.namespace}.`,
  );
  // Partial credit, short of the pass mark.
  const m = /^(\S+) of (\S+) points: (\S+) % \(pass mark (\d+) %\)$/.exec((await total.textContent()) ?? "");
  expect(m).not.toBeNull();
  const [earned, percent, pass] = [Number(m![1]), Number(m![3]), Number(m![4])];
  expect(earned).toBeGreaterThanOrEqual(echo!.weight + steps!.weight);
  expect(percent).toBeGreaterThan(0);
  expect(percent).toBeLessThan(pass);
  await expect(page.locator(".kl-exam-fail")).toHaveText("Not passed");
  // One points scale: a check's points "of" its most, on the task's weight (raw 2+2+2 was shown under "3 / 3").
  const cells = await sections.nth(0).locator("tr[data-passed] td:last-child").allTextContents();
  const pairs = cells.map((text) => /^(\S+) of (\S+)$/.exec(text)).map((p) => [Number(p?.[1]), Number(p?.[2])]);
  expect(pairs.length).toBeGreaterThan(0);
  expect(pairs.reduce((sum, [points]) => sum + points!, 0)).toBeCloseTo(echo!.weight, 1);
  expect(pairs.reduce((sum, [, possible]) => sum + possible!, 0)).toBeCloseTo(echo!.weight, 1);
  // After the report: start again (this is no class's exam), and the past attempts with this one.
  await expect(page.locator("[data-exam-again]")).toBeVisible();
  await expect(page.locator(`[data-exam-past] a[href="?attempt=${encodeURIComponent(attemptId!)}"]`)).toBeVisible();
  await total.scrollIntoViewIfNeeded();
  await page.screenshot({ path: `${SCREENSHOTS}exam-report.png`, fullPage: true });

  // Submitted: the terminal is the lessons' shell again, and the exam's shell is gone from the toolbox.
  await shellOnContext(page, "kubelab");
  const examShell = echo!.namespace.replace(/-task-1$/, "");
  await expect(async () => {
    await clearTerminal(page);
    await runInTerminal(page, `tmux ls -F '#S' | grep -c '^${examShell}$'; ls /root/.kube/ | grep -c '^${examShell}'`);
    await expectTerminal(page, /^0\n0$/m, 5_000);
  }).toPass({ timeout: 60_000, intervals: [1000, 2000] });

  // The server removes the attempt's namespaces once the report is stored.
  await expect
    .poll(
      async () =>
        (await core.listNamespace({ labelSelector: `${EXAM_LABEL}=${attemptId}` })).items.filter(
          (ns) => ns.status?.phase === "Active",
        ).length,
      { timeout: 120_000 },
    )
    .toBe(0);
});
