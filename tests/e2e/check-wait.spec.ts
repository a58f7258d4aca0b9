/**
 * A Check never waits for what is already decided, and says what it waits
 * for (issue: 64 s of "Checking…" for a CronJob whose schedule was wrong
 * from the start). `cronjob/hello` with a wrong schedule is answered at once;
 * with the right spec and no run yet, the panel shows the waiting check, a
 * countdown that runs down, and stops when asked. Hints show code as code.
 */
import { BatchV1Api, KubeConfig, type V1CronJob } from "@kubernetes/client-node";
import { expect, test } from "@playwright/test";
import { providerFromEnv } from "../../src/cluster/providers.ts";
import { LEARNER_NAMESPACE, openLesson, pressCheck } from "./support.ts";

const kc = new KubeConfig();
kc.loadFromFile(process.env.KUBECONFIG ?? providerFromEnv().kubeconfigPath());
const batch = kc.makeApiClient(BatchV1Api);

function hello(schedule: string): V1CronJob {
  return {
    metadata: { name: "hello" },
    spec: {
      schedule,
      jobTemplate: {
        spec: {
          template: {
            spec: {
              restartPolicy: "OnFailure",
              containers: [
                {
                  name: "hello",
                  image: "busybox",
                  args: ["/bin/sh", "-c", "date; echo Hello from the Kubernetes cluster"],
                },
              ],
            },
          },
        },
      },
    },
  };
}

async function deleteHello(): Promise<void> {
  try {
    await batch.deleteNamespacedCronJob({
      name: "hello",
      namespace: LEARNER_NAMESPACE,
      propagationPolicy: "Background",
    });
  } catch (err) {
    if ((err as { code?: number }).code !== 404) throw err;
  }
  await expect
    .poll(
      async () =>
        (await batch.listNamespacedCronJob({ namespace: LEARNER_NAMESPACE, fieldSelector: "metadata.name=hello" }))
          .items.length,
      { timeout: 30_000 },
    )
    .toBe(0);
}

test.beforeEach(deleteHello);
test.afterEach(deleteHello);

test("cronjob/hello: a wrong schedule is answered in under 2 s; a Check that must wait counts down", async ({
  page,
}) => {
  await openLesson(page, "/en/cronjob/");

  await batch.createNamespacedCronJob({ namespace: LEARNER_NAMESPACE, body: hello("*/5 * * * *") });
  const wrong = await pressCheck(page, "cronjob/hello");
  expect(wrong.seconds, "a spec that is wrong from the start is answered at once").toBeLessThan(2);
  await expect(wrong.check).toHaveAttribute("data-state", "failed");
  await expect(wrong.check.locator('li[data-check="schedule"]')).toHaveAttribute("data-state", "failed");
  const fired = wrong.check.locator('li[data-check="fired"]');
  await expect(fired).toHaveAttribute("data-state", "failed");
  await expect(fired.locator(".kl-check-message")).not.toContainText(/waited \d+ s/);
  // The hint's backticked command is code, not raw backticks.
  const hint = wrong.check.locator('li[data-check="schedule"] .kl-check-hint');
  await expect(hint.locator("code").first()).toHaveText("kubectl edit cj hello");
  await expect(hint).not.toContainText("`");

  // The right spec, no run yet: the Check answers at once and waits in the panel.
  await deleteHello();
  // Away from a minute's turn: a run falling due while the test reads the countdown could end the wait before Cancel.
  const second = new Date().getUTCSeconds();
  if (second < 5 || second > 45) await new Promise((r) => setTimeout(r, ((65 - second) % 60) * 1000));
  await batch.createNamespacedCronJob({ namespace: LEARNER_NAMESPACE, body: hello("*/1 * * * *") });
  const waiting = await pressCheck(page, "cronjob/hello");
  expect(waiting.seconds).toBeLessThan(2);
  await expect(waiting.check).toHaveAttribute("data-state", "waiting");
  await expect(waiting.check.locator('li[data-check="fired"]')).toHaveAttribute("data-state", "waiting");
  await expect(waiting.check.locator('li[data-check="fired"] .kl-check-message')).toContainText(
    /Waiting for (the run of CronJob hello due at \d\d:\d\d UTC|Job hello-\d+ of CronJob hello to finish)/,
  );
  const countdown = waiting.check.locator("[data-wait-countdown]");
  const secondsLeft = async () => Number(/in (\d+) s/.exec((await countdown.textContent()) ?? "")?.[1] ?? NaN);
  await expect(countdown).toHaveText(/Checking again at \d\d:\d\d:\d\d, in \d+ s\./);
  const first = await secondsLeft();
  expect(first).toBeGreaterThan(0);
  expect(first).toBeLessThanOrEqual(64);
  if (first >= 3) await expect.poll(secondsLeft, { timeout: 5_000 }).toBeLessThan(first);
  await waiting.check.locator("[data-wait-cancel]").click();
  await expect(waiting.check).toHaveAttribute("data-state", "failed");
  await expect(countdown).toHaveCount(0);
  await expect(waiting.check.locator("[data-wait]")).toContainText("Stopped waiting");
});
