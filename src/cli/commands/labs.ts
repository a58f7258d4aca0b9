/**
 * `./kubelab labs list [--json] [--min-age MIN]` and
 * `./kubelab labs delete <lab-id>|--orphans [--dry-run] [--force] [--min-age MIN]`:
 * the operator's view of every namespace kubelab made in the cluster, judged
 * by the progress store (src/app/sweep.ts: live, orphan, expired), and the
 * sweep by hand. Reads the store the lab server uses (KUBELAB_STORE);
 * safe while it runs.
 */
import { existsSync } from "node:fs";
import { KubeConfig } from "@kubernetes/client-node";
import { providerFromEnv } from "../../cluster/providers.ts";
import { KubelabError } from "../../errors.ts";
import { listKubelabNamespaces, sweepNamespaces, type JudgedNamespace, type SweepOptions } from "../../app/sweep.ts";
import { defaultStorePath, openStore, STORE_ENV, type Store } from "../../store/index.ts";
import { flagString, parseArgs } from "../args.ts";
import { usageOf } from "../usage.ts";

const USAGE =
  "usage: ./kubelab labs list [--json] [--min-age MIN] | ./kubelab labs delete <lab-id>|--orphans [--dry-run] [--force] [--min-age MIN]";

/** `--min-age MIN`: namespaces younger than this many minutes are live (default: the sweep's 10). */
function minAge(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const minutes = Number(value);
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(minutes))
    throw new KubelabError(
      `invalid --min-age ${value}`,
      "Give --min-age a whole number of minutes (0: judge even new namespaces).",
    );
  return minutes * 60_000;
}

/** "3d", "5h", "12m": how old a namespace is, as kubectl shows it. */
export function formatAge(ms: number): string {
  const m = Math.max(0, Math.floor(ms / 60_000));
  if (m < 60) return `${m}m`;
  if (m < 48 * 60) return `${Math.floor(m / 60)}h`;
  return `${Math.floor(m / 1440)}d`;
}

/** The table `labs list` prints. */
export function labsTable(rows: readonly JudgedNamespace[], now: number): string {
  const header = ["NAMESPACE", "LAB", "LEARNER", "MODE", "AGE", "STATE", "WHY"];
  const cells = rows.map((r) => [
    r.name,
    r.labId ?? "-",
    r.learner ?? "-",
    r.mode,
    formatAge(now - r.createdAt.getTime()),
    r.terminating ? `${r.state} (deleting)` : r.state,
    r.reason,
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i]!.length)));
  return [header, ...cells]
    .map((c) =>
      c
        .map((v, i) => v.padEnd(widths[i]!))
        .join("  ")
        .trimEnd(),
    )
    .join("\n");
}

async function withStore<T>(fn: (store: Store, kubeConfig: KubeConfig) => Promise<T>): Promise<T> {
  const path = defaultStorePath();
  if (!existsSync(path))
    throw new KubelabError(
      `there is no progress store at ${path}`,
      `Set ${STORE_ENV} to the store the lab server uses: without it every lab would look like an orphan.`,
    );
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromFile(providerFromEnv().kubeconfigPath());
  const store = await openStore({ path });
  try {
    return await fn(store, kubeConfig);
  } finally {
    await store.close();
  }
}

export default async function labsCommand(args: string[]): Promise<number> {
  const parsed = parseArgs(args, {
    usage: usageOf("labs"),
    strings: ["min-age"],
    booleans: ["json", "orphans", "dry-run", "force"],
  });
  const [sub, labId, ...extra] = parsed.positional;
  const minAgeMs = minAge(flagString(parsed, "min-age"));
  if (sub === "list") {
    if (labId !== undefined) throw new KubelabError(`labs list takes no lab id (got "${labId}")`, USAGE);
    return withStore(async (store, kubeConfig) => {
      const rows = await listKubelabNamespaces({ kubeConfig, store, minAgeMs });
      if (parsed.flags.get("json") === true) process.stdout.write(`${JSON.stringify(rows, null, 2)}\n`);
      else if (rows.length === 0) console.log("no kubelab namespaces in the cluster");
      else console.log(labsTable(rows, Date.now()));
      return 0;
    });
  }
  if (sub !== "delete") throw new KubelabError(sub ? `unknown labs command "${sub}"` : "which labs command?", USAGE);
  const orphans = parsed.flags.get("orphans") === true;
  if (extra.length || (labId === undefined) === !orphans)
    throw new KubelabError(
      "labs delete takes one lab id or --orphans",
      `${USAGE}\n(the lab ids are in the LAB column of \`./kubelab labs list\`)`,
    );
  const dryRun = parsed.flags.get("dry-run") === true;
  return withStore(async (store, kubeConfig) => {
    const options: SweepOptions = { kubeConfig, store, dryRun, minAgeMs, log: (line) => console.error(line) };
    if (orphans) {
      const gone = await sweepNamespaces(options);
      console.log(`${dryRun ? "would delete" : "deleted"} ${gone.length} namespaces`);
      return 0;
    }
    const only: SweepOptions["only"] = (ns) => ns.labId === labId;
    const rows = await listKubelabNamespaces({ ...options, only });
    if (rows.length === 0)
      throw new KubelabError(`no namespace of lab ${labId} in the cluster`, "See the labs with `./kubelab labs list`.");
    const live = rows.find((r) => r.state === "live");
    if (live && parsed.flags.get("force") !== true)
      throw new KubelabError(
        `lab ${labId} is live (${live.name}: ${live.reason})`,
        "A learner may be working in it: reset or delete it from the instructor's page, or add --force to delete it anyway.",
      );
    const gone = await sweepNamespaces({ ...options, only, force: live !== undefined });
    console.log(`${dryRun ? "would delete" : "deleted"} ${gone.length} namespaces of lab ${labId}`);
    return 0;
  });
}
