/**
 * `./kubelab grade <exercise> [--json] [--namespace NS] [--locale en|zh-CN]`:
 * grade one exercise against the cluster, print the result (JSON with --json)
 * and exit 0 only on a pass (1 on a learner failure, 3 on an infrastructure error).
 */
import { KubeConfig } from "@kubernetes/client-node";
import { KubelabError } from "../../errors.ts";
import { providerFromEnv } from "../../cluster/providers.ts";
import {
  createGradeContext,
  graders,
  gradeExercise,
  kubeExec,
  type GradeResult,
  type Locale,
} from "../../graders/index.ts";
import { LabRecorder } from "../../recorder/index.ts";
import { flagString, parseArgs } from "../args.ts";
import { usageOf } from "../usage.ts";

export default async function gradeCommand(args: string[]): Promise<number> {
  const parsed = parseArgs(args, { usage: usageOf("grade"), strings: ["namespace", "locale"], booleans: ["json"] });
  const [exercise] = parsed.positional;
  if (!exercise || !graders.has(exercise)) {
    throw new KubelabError(
      exercise ? `unknown exercise "${exercise}"` : "which exercise?",
      `usage: ./kubelab grade <exercise> [--json]; exercises: ${[...graders.keys()].join(", ")}`,
    );
  }
  const locale = (flagString(parsed, "locale") ?? "en") as Locale;
  if (locale !== "en" && locale !== "zh-CN")
    throw new KubelabError(`unknown locale ${locale}`, "use --locale en or --locale zh-CN");
  const namespace = flagString(parsed, "namespace") ?? "default";
  const result = await gradeOnce(providerFromEnv().kubeconfigPath(), exercise, namespace, locale);
  if (parsed.flags.has("json")) console.log(JSON.stringify(result, null, 2));
  else printResult(result);
  return result.passed ? 0 : result.infrastructureError ? 3 : 1;
}

/**
 * Grade with a recorder started just now: it sees current objects, not past
 * ones, so history-based checks may ask the learner to repeat the exercise
 * (the lab server records from the start of a lab instead).
 */
export async function gradeOnce(
  kubeconfigPath: string,
  exercise: string,
  namespace: string,
  locale: Locale,
): Promise<GradeResult> {
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromFile(kubeconfigPath);
  const recorder = new LabRecorder({ namespace, kubeConfig });
  await recorder.start();
  try {
    const ctx = createGradeContext({ namespace, recorder: recorder.view, kubeConfig, exec: kubeExec(kubeConfig) });
    return await gradeExercise(exercise, ctx, locale);
  } finally {
    await recorder.stop();
  }
}

export function printResult(result: GradeResult): void {
  const verdict = result.passed ? "PASSED" : result.infrastructureError ? "COULD NOT CHECK" : "NOT YET";
  console.log(`${result.exercise}: ${verdict}  ${result.score}/${result.maxScore}  (${result.durationMs} ms)`);
  for (const check of result.checks) {
    console.log(`  ${check.passed ? "✔" : "✘"} ${check.title}: ${check.message}`);
    if (!check.passed && check.hint) console.log(`      hint: ${check.hint}`);
  }
}
