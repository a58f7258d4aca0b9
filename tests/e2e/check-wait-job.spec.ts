/**
 * Job checks never wait silently (issue: "Checking…" for up to 20 s while a
 * Job ran, without a word). `job/completions` with a wrong parallelism is
 * answered at once, although the Job is still running; with the right spec
 * and pods still to run, the panel shows what it waits for (the Job and its
 * progress) and a countdown, and stops when asked.
 */
import { BatchV1Api, KubeConfig, type V1Job } from "@kubernetes/client-node";
import { expect, test } from "@playwright/test";
import { providerFromEnv } from "../../src/cluster/providers.ts";
import { LEARNER_NAMESPACE, openLesson, pressCheck } from "./support.ts";

const kc = new KubeConfig();
kc.loadFromFile(process.env.KUBECONFIG ?? providerFromEnv().kubeconfigPath());
const batch = kc.makeApiClient(BatchV1Api);
const NAME = "completions";

/** Job `completions`: 3 pods one after another, each sleeping long enough that the Check has to wait. */
function completions(parallelism: number): V1Job {
  return {
    metadata: { name: NAME },
    spec: {
      completions: 3,
      parallelism,
      template: {
        spec: {
          restartPolicy: "Never",
          containers: [{ name: "work", image: "busybox", command: ["sh", "-c", "sleep 20"] }],
        },
      },
    },
  };
}

async function deleteJob(): Promise<void> {
  try {
    await batch.deleteNamespacedJob({ name: NAME, namespace: LEARNER_NAMESPACE, propagationPolicy: "Background" });
  } catch (err) {
    if ((err as { code?: number }).code !== 404) throw err;
  }
  await expect
    .poll(
      async () =>
        (await batch.listNamespacedJob({ namespace: LEARNER_NAMESPACE, fieldSelector: `metadata.name=${NAME}` })).items
          .length,
      { timeout: 30_000 },
    )
    .toBe(0);
}

test.beforeEach(deleteJob);
test.afterEach(deleteJob);

test("job/completions: a wrong spec is answered in under 2 s while the Job runs; a Check that must wait counts down", async ({
  page,
}) => {
  await openLesson(page, "/en/job/");

  await batch.createNamespacedJob({ namespace: LEARNER_NAMESPACE, body: completions(2) });
  const wrong = await pressCheck(page, `job/${NAME}`);
  expect(wrong.seconds, "a spec that is wrong from the start is answered at once").toBeLessThan(2);
  await expect(wrong.check).toHaveAttribute("data-state", "failed");
  await expect(wrong.check.locator('li[data-check="spec"]')).toHaveAttribute("data-state", "failed");
  const complete = wrong.check.locator('li[data-check="complete"]');
  await expect(complete).toHaveAttribute("data-state", "failed");
  await expect(complete.locator(".kl-check-message")).toContainText("Not waited for");
  await expect(wrong.check.locator("[data-wait-countdown]")).toHaveCount(0);

  // The right spec, pods still to run: the Check answers at once and waits in the panel.
  await deleteJob();
  await batch.createNamespacedJob({ namespace: LEARNER_NAMESPACE, body: completions(1) });
  const waiting = await pressCheck(page, `job/${NAME}`);
  expect(waiting.seconds).toBeLessThan(2);
  await expect(waiting.check).toHaveAttribute("data-state", "waiting");
  await expect(waiting.check.locator('li[data-check="complete"]')).toHaveAttribute("data-state", "waiting");
  await expect(waiting.check.locator('li[data-check="complete"] .kl-check-message')).toContainText(
    /Waiting for Job completions to finish: \d of 3 pod\(s\) succeeded so far, running for \d+ s\./,
  );
  const countdown = waiting.check.locator("[data-wait-countdown]");
  await expect(countdown).toHaveText(/Checking again at \d\d:\d\d:\d\d, in \d+ s\./);
  // It checks again by itself and still waits (the first pod sleeps 20 s): the panel keeps counting.
  await expect(waiting.check.locator('li[data-check="complete"] .kl-check-message')).toContainText(
    /running for ([4-9]|\d\d) s/,
    { timeout: 15_000 },
  );
  await expect(waiting.check).toHaveAttribute("data-state", "waiting");
  await waiting.check.locator("[data-wait-cancel]").click();
  await expect(waiting.check).toHaveAttribute("data-state", "failed");
  await expect(countdown).toHaveCount(0);
  await expect(waiting.check.locator("[data-wait]")).toContainText("Stopped waiting");
});
