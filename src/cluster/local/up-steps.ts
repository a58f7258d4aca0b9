/**
 * `cluster up` as an ordered list of named steps (kind's create actions are
 * the model): each step is announced and timed, a failure names the step it
 * happened in, and the caller's cleanup runs before the error goes on, so a
 * failed `up` leaves nothing half-started behind.
 */
import { wrapError } from "../../errors.ts";

export interface UpStep {
  /** What the step does, as the learner reads it ("start node processes"). */
  name: string;
  run: () => Promise<void>;
}

export interface StepTiming {
  name: string;
  ms: number;
}

/**
 * Run `steps` in order. After each, `progress` gets "✓ <name> (<s> s)"; on the
 * first failure `cleanUp` runs (its own errors are dropped: the step's error
 * is the one to report) and the error is re-thrown with the step's name.
 */
export async function runSteps(
  steps: UpStep[],
  progress: (line: string) => void,
  cleanUp: () => Promise<void> = async () => {},
): Promise<StepTiming[]> {
  const timings: StepTiming[] = [];
  for (const step of steps) {
    const started = performance.now();
    try {
      await step.run();
    } catch (err) {
      progress(`✗ ${step.name} failed; cleaning up`);
      await cleanUp().catch(() => undefined);
      throw wrapError(err, `cluster up failed at "${step.name}"`);
    }
    const ms = Math.round(performance.now() - started);
    timings.push({ name: step.name, ms });
    progress(`✓ ${step.name} (${(ms / 1000).toFixed(1)} s)`);
  }
  return timings;
}
