/**
 * `./kubelab progress export [--format json|csv] [--learner ID] [--output FILE]`:
 * write the progress store's record (docs/architecture.md §10): JSON with
 * every learner, attempt and lab event (the default), or CSV with one row per
 * attempt. Reads the store the lab server uses (KUBELAB_STORE, else the state
 * directory); safe while the server runs (WAL: readers never block it).
 */
import { existsSync, writeFileSync } from "node:fs";
import { KubelabError } from "../../errors.ts";
import {
  attemptCsvRows,
  defaultStorePath,
  isPostgresUrl,
  openStore,
  STORE_ENV,
  toCsv,
  type ProgressExport,
} from "../../store/index.ts";
import { flagString, parseArgs } from "../args.ts";
import { usageOf } from "../usage.ts";

const USAGE = "usage: ./kubelab progress export [--format json|csv] [--learner ID] [--output FILE]";

/** One CSV row per attempt, in the same table as the instructor's attempts.csv (src/store/csv.ts). */
export function attemptsCsv(data: ProgressExport): string {
  const names = new Map(data.learners.map((l) => [l.id, l.displayName ?? ""]));
  return toCsv(attemptCsvRows(data.attempts, (id) => names.get(id) ?? ""));
}

export default async function progressCommand(args: string[]): Promise<number> {
  const parsed = parseArgs(args, { usage: usageOf("progress"), strings: ["format", "learner", "output"] });
  const [sub] = parsed.positional;
  if (sub !== "export")
    throw new KubelabError(sub ? `unknown progress command "${sub}"` : "which progress command?", USAGE);
  const format = flagString(parsed, "format") ?? "json";
  if (format !== "json" && format !== "csv")
    throw new KubelabError(`unknown format ${format}`, "use --format json or --format csv");
  const path = defaultStorePath();
  if (!isPostgresUrl(path) && !existsSync(path)) {
    throw new KubelabError(
      `there is no progress store at ${path}`,
      `Start the lab server once (\`./kubelab start\`) to create it, or set ${STORE_ENV} to the store's file.`,
    );
  }
  const store = await openStore({ path });
  try {
    const learner = flagString(parsed, "learner");
    if (learner !== undefined && !(await store.getLearner(learner))) {
      throw new KubelabError(
        `no learner ${learner} in ${store.location}`,
        "Learner ids are in the JSON export (learners[].id) and on the learner's progress page.",
      );
    }
    const data = await store.export(learner);
    const text = format === "csv" ? attemptsCsv(data) : `${JSON.stringify(data, null, 2)}\n`;
    const output = flagString(parsed, "output");
    if (output) {
      // Learners' records: owner-only, like the store.
      writeFileSync(output, text, { mode: 0o600 });
      console.error(
        `wrote ${data.attempts.length} attempts and ${data.events.length} events of ${data.learners.length} learners to ${output}`,
      );
    } else {
      process.stdout.write(text);
    }
    return 0;
  } finally {
    await store.close();
  }
}
