/**
 * Entry point of the detached supervisor process:
 *   node supervisor-main.ts <state-dir> <binaries-dir>
 * Started by `kubelab cluster up`; stopped with SIGTERM by `kubelab cluster down`.
 */
import { writeFileSync } from "node:fs";
import { binariesIn } from "./binaries.ts";
import { runSupervisor } from "./supervisor.ts";
import { stateLayout } from "./layout.ts";

const [state, binDir] = process.argv.slice(2);
if (!state || !binDir) {
  console.error("usage: supervisor-main.ts <state-dir> <binaries-dir>");
  process.exit(2);
}
const layout = stateLayout(state);
writeFileSync(layout.supervisorPid, String(process.pid));
await runSupervisor(layout, binariesIn(binDir));
