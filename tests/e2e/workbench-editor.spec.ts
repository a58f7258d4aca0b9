/**
 * The workbench editor in Chromium against the real lab: the schema comes
 * from the cluster (a CustomResourceDefinition applied here marks a field its
 * schema forbids), each YAML document of a file is checked against its own
 * kind, and Apply puts the API server's own error beside its line.
 * Screenshots at three sizes go to test-results/.
 */
import { expect, test, type Page } from "@playwright/test";
import { kubectl } from "../support/cluster.ts";
import { openLesson } from "./support.ts";

const GROUP = "editor-e2e.kubelab.dev";
const CRD = `apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: widgets.${GROUP}
spec:
  group: ${GROUP}
  scope: Namespaced
  names: { plural: widgets, singular: widget, kind: Widget }
  versions:
  - name: v1
    served: true
    storage: true
    schema:
      openAPIV3Schema:
        type: object
        properties:
          spec:
            type: object
            description: What a widget is made of.
            properties:
              size: { type: integer, description: How many parts the widget has. }
              colour: { type: string, enum: [red, blue] }
`;

const WIDGET = `apiVersion: ${GROUP}/v1
kind: Widget
metadata:
  name: w1
spec:
  size: 3
  flavour: lemon
`;

const JOB_AND_CRONJOB = `apiVersion: batch/v1
kind: Job
metadata:
  name: e2e-once
spec:
  schedule: "*/5 * * * *"
  template:
    spec:
      restartPolicy: Never
      containers:
      - name: c
        image: busybox
---
apiVersion: batch/v1
kind: CronJob
metadata:
  name: e2e-often
spec:
  schedule: "*/5 * * * *"
  completions: 2
  jobTemplate:
    spec:
      template:
        spec:
          restartPolicy: Never
          containers:
          - name: c
            image: busybox
`;

/** Valid to the schema (restartPolicy may be Always in a Pod), refused by the API server for a Job. */
const BAD_JOB = `apiVersion: batch/v1
kind: Job
metadata:
  name: e2e-refused
spec:
  template:
    spec:
      restartPolicy: Always
      containers:
      - name: c
        image: busybox
`;

/** The editor's error marks: the text each covers and its line (1-based). */
function marks(page: Page) {
  return page.evaluate(() =>
    [...document.querySelectorAll(".cm-content .cm-line")].flatMap((line, i) =>
      [...line.querySelectorAll(".cm-lintRange-error")].map((m) => `${i + 1}:${m.textContent}`),
    ),
  );
}

/** Open `file` with `content` in the editor, as a lesson's Write button does. */
async function edit(page: Page, file: string, content: string) {
  await page.evaluate(
    ({ file, content }) => document.dispatchEvent(new CustomEvent("kubelab:edit-file", { detail: { file, content } })),
    { file, content },
  );
  await expect(page.locator("[data-editor-path]")).toHaveValue(file);
}

test.describe("workbench editor", () => {
  test.beforeAll(async () => {
    const applied = await kubectl(["apply", "-f", "-"], { input: CRD });
    expect(applied.code, applied.stderr).toBe(0);
    const ready = await kubectl(["wait", "--for=condition=Established", `crd/widgets.${GROUP}`, "--timeout=60s"]);
    expect(ready.code, ready.stderr).toBe(0);
  });
  test.afterAll(async () => {
    await kubectl(["delete", "crd", `widgets.${GROUP}`, "--ignore-not-found", "--wait=false"]);
    await kubectl(["-n", "kubelab-local", "exec", "toolbox", "--", "rm", "-f", "/root/pod/e2e-widget.yaml"]);
  });

  test("marks a field the cluster's CRD schema forbids, with its description on hover", async ({ page }) => {
    await openLesson(page, "/en/job/");
    // The file is in the toolbox (the terminal's directory) before the editor opens it.
    const saved = await page.request.post("/api/lab/file", { data: { path: "e2e-widget.yaml", content: WIDGET } });
    expect(saved.status(), await saved.text()).toBe(200);
    await page.locator("[data-editor-path]").evaluate((input: HTMLInputElement) => (input.value = "e2e-widget.yaml"));
    const opened = Date.now();
    await page.getByRole("button", { name: "Editor" }).click();
    await expect(page.locator("[data-editor]")).toBeVisible();
    // The CRD's OpenAPI is published a moment after it is established: the editor asks again until it is.
    await expect.poll(() => marks(page), { timeout: 30_000 }).toEqual(["7:flavour"]);
    const firstMark = await page.locator("[data-editor]").getAttribute("data-first-mark-ms");
    console.log(
      `editor: opened → first validation mark ${firstMark} ms in the page (${Date.now() - opened} ms seen by the test)`,
    );
    await page.locator(".cm-content .cm-line", { hasText: "size: 3" }).locator("text=size").hover();
    await expect(page.locator(".kl-editor-hover")).toContainText("How many parts the widget has.");
    for (const [width, height] of [
      [1366, 900],
      [800, 900],
      [1920, 1080],
    ] as const) {
      await page.setViewportSize({ width, height });
      await page.screenshot({ path: `test-results/workbench-editor-${width}x${height}.png` });
    }
  });

  test("a lesson's Write button opens its file in the editor", async ({ page }) => {
    await openLesson(page, "/en/job/");
    await page
      .locator('.kl-run[data-run="write"]', { hasText: /\bjob\.yaml$/ })
      .first()
      .click();
    await expect(page.locator("[data-editor]")).toBeVisible();
    await expect(page.locator("[data-editor-path]")).toHaveValue("job.yaml");
    await expect(page.locator(".cm-content")).toContainText("kind: Job");
  });

  test("checks each document of a file against its own kind", async ({ page }) => {
    await openLesson(page, "/en/job/");
    await page.getByRole("button", { name: "Editor" }).click();
    await expect(page.locator(".cm-content")).toBeVisible();
    await edit(page, "e2e-both.yaml", JOB_AND_CRONJOB);
    // schedule is a CronJob's field, completions a Job's: each is wrong in the other document only.
    await expect.poll(() => marks(page), { timeout: 15_000 }).toEqual(["6:schedule", "20:completions"]);
  });

  test("completes the fields the cluster's schema allows where the cursor is", async ({ page }) => {
    await openLesson(page, "/en/job/");
    await page.getByRole("button", { name: "Editor" }).click();
    await expect(page.locator(".cm-content")).toBeVisible();
    await edit(page, "e2e-complete.yaml", "apiVersion: batch/v1\nkind: Job\nmetadata:\n  name: x\nspec:\n  templ");
    await expect.poll(() => marks(page)).not.toEqual([]); // the schema is in
    await page.locator(".cm-content").click();
    await page.keyboard.press("Control+End");
    await page.keyboard.press("Control+Space");
    const options = page.locator(".cm-tooltip-autocomplete li");
    await expect(options.first()).toContainText("template");
    // CodeMirror ignores Enter on a completion list younger than its interactionDelay (75 ms).
    await page.waitForTimeout(150);
    await page.keyboard.press("Enter");
    await expect(page.locator(".cm-content")).toContainText("template: ");
  });

  test("Apply shows the API server's own error beside its line", async ({ page }) => {
    await openLesson(page, "/en/job/");
    await page.getByRole("button", { name: "Editor" }).click();
    await expect(page.locator(".cm-content")).toBeVisible();
    await edit(page, "e2e-refused.yaml", BAD_JOB);
    await expect.poll(() => marks(page)).toEqual([]);
    await page.getByRole("button", { name: "Apply" }).click();
    const result = page.locator("[data-editor-results] li");
    await expect(result).toContainText("Job/e2e-refused: line 8:");
    await expect(result).toContainText(
      'spec.template.spec.restartPolicy: Required value: valid values: "OnFailure", "Never"',
    );
    await expect.poll(() => marks(page)).toEqual(["8:restartPolicy"]);
    await expect(page.locator("[data-editor-status]")).toContainText("nothing was changed");
    const job = await kubectl(["get", "job", "e2e-refused", "--ignore-not-found", "-o", "name"]);
    expect(job.stdout.trim(), "the dry run refused it: nothing was created").toBe("");
  });
});
