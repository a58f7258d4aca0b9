/**
 * `./kubelab store backup FILE` and `./kubelab store restore FILE` on the
 * store KUBELAB_STORE names (a SQLite file or a PostgreSQL URL; see
 * docs/store.md and src/store/backup.ts). A backup is safe while the server
 * runs; a restore refuses while a server uses the store.
 */
import { existsSync } from "node:fs";
import { resolve } from "node:path";
import { KubelabError } from "../../errors.ts";
import {
  backupStore,
  defaultStorePath,
  isPostgresUrl,
  openStore,
  redactUrl,
  restoreStore,
  sizeOf,
  STORE_ENV,
} from "../../store/index.ts";
import { parseArgs } from "../args.ts";
import { usageOf } from "../usage.ts";

export default async function storeCommand(args: string[]): Promise<number> {
  const parsed = parseArgs(args, { usage: usageOf("store") });
  const [sub, file, ...extra] = parsed.positional;
  if ((sub !== "backup" && sub !== "restore") || !file || extra.length)
    throw new KubelabError(
      sub === "backup" || sub === "restore"
        ? `which file to ${sub}?`
        : sub
          ? `unknown store command "${sub}"`
          : "which store command?",
      usageOf("store"),
    );
  const target = defaultStorePath();
  const postgres = isPostgresUrl(target);
  const shown = postgres ? redactUrl(target) : target;
  const path = resolve(file);
  if (sub === "backup") {
    await backupStore(target, path, postgres);
    console.error(`backed up ${shown} to ${path} (${sizeOf(path)} bytes)`);
    return 0;
  }
  if (!existsSync(path))
    throw new KubelabError(`there is no backup ${path}`, "Name a file `./kubelab store backup` wrote.");
  const { version, before } = await restoreStore(target, path, postgres);
  // Opening it once brings an older backup's schema up to date (and proves it opens).
  const store = await openStore({ path: target, log: (line) => console.error(line) });
  const learners = (await store.export()).learners.length;
  await store.close();
  console.error(`restored ${path} (schema v${version}) into ${shown}: ${learners} learners`);
  if (before) console.error(`the store it replaced is kept as ${before}`);
  if (!process.env[STORE_ENV]) console.error(`(the default store; set ${STORE_ENV} for another)`);
  return 0;
}
