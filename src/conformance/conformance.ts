/**
 * `./kubelab test conformance`: the upstream Kubernetes e2e specs of the
 * areas learners touch (src/conformance/specs.ts), run offline against the
 * cluster with ginkgo in a few parallel processes. Prints passed / failed /
 * skipped and leaves ginkgo's JUnit report in the report directory.
 */
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { KubelabError } from "../errors.ts";
import { CONFORMANCE_IMAGES } from "../images/catalog.ts";
import { ensureImages, type EnsuredImage } from "../images/build.ts";
import type { ClusterProvider } from "../cluster/provider.ts";
import { LocalProvider } from "../cluster/local/local-provider.ts";
import { run } from "../host/run.ts";
import { cacheDir } from "../cluster/local/layout.ts";
import { LOCAL_REGISTRY } from "../cluster/local/node-config.ts";
import { ensureConformanceBinaries, type ConformanceBinaries } from "./binaries.ts";
import { summarizeJunit, type ConformanceSummary } from "./junit.ts";
import { FOCUS, SKIP } from "./specs.ts";

/**
 * Ginkgo processes. The specs mostly wait for pods, so more processes than
 * cores pay off, but each adds pods and API load on the two cores the node
 * shares with everything else.
 */
export const CONFORMANCE_PROCS = 3;

export interface ConformanceOptions {
  provider: ClusterProvider;
  /** Directory for junit.xml (emptied first). */
  reportDir: string;
  onProgress?: (line: string) => void;
}

/** Build (or reuse) the binaries and images, run the specs, print the summary; returns the exit code. */
export async function testConformance(o: ConformanceOptions): Promise<number> {
  const progress = o.onProgress ?? (() => {});
  const bins = await ensureConformanceBinaries(progress);
  const info = await o.provider.up({ onProgress: progress });
  // Another provider's cluster pulls the upstream images from their registries.
  if (o.provider instanceof LocalProvider) await pushConformanceImages(o.provider, bins, progress);
  rmSync(o.reportDir, { recursive: true, force: true });
  mkdirSync(o.reportDir, { recursive: true });
  const started = Date.now();
  const code = await runGinkgo(bins, info.kubeconfig, o.reportDir);
  const junit = join(o.reportDir, "junit.xml");
  if (!existsSync(junit)) {
    throw new KubelabError(`the conformance run wrote no report (ginkgo exited with ${code})`, "see its output above");
  }
  const summary = summarizeJunit(readFileSync(junit, "utf8"));
  printSummary(summary, Date.now() - started, junit);
  return summary.failed.length === 0 && summary.passed.length > 0 && code === 0 ? 0 : 1;
}

async function pushConformanceImages(
  provider: LocalProvider,
  bins: ConformanceBinaries,
  progress: (line: string) => void,
): Promise<void> {
  const pushed = await ensureImages({
    cacheDir: join(cacheDir(), "images"),
    registry: LOCAL_REGISTRY,
    registryTls: provider.registryTls(),
    binaries: { agnhost: bins.agnhost, agnhostCert: bins.agnhostCert, agnhostKey: bins.agnhostKey },
    images: CONFORMANCE_IMAGES,
    onProgress: progress,
  });
  await dropStaleImages(provider, pushed, progress);
}

/**
 * The specs' pods pull IfNotPresent, so a node holding an older build of an
 * image under the same tag (the tags are upstream's, never bumped here) would
 * keep running it: drop the node's copy when its digest is not the registry's.
 */
async function dropStaleImages(
  provider: LocalProvider,
  pushed: readonly EnsuredImage[],
  progress: (line: string) => void,
): Promise<void> {
  const ctr = (args: string[]) =>
    run("ctr", ["-a", provider.layout.containerdSocket, "-n", "k8s.io", "images", ...args], { allowFail: true });
  const listing = (await ctr(["ls"])).split("\n");
  for (const [i, image] of CONFORMANCE_IMAGES.entries()) {
    const held = listing.find((line) => line.startsWith(`${image.ref} `));
    if (held && !held.includes(pushed[i].digest)) {
      await ctr(["rm", image.ref]);
      progress(`dropped the node's outdated copy of ${image.ref}`);
    }
  }
}

/** The ginkgo command line: its own flags, the binary, then the e2e framework's flags. */
export function ginkgoArgs(bins: ConformanceBinaries, kubeconfig: string, reportDir: string): string[] {
  return [
    `--procs=${CONFORMANCE_PROCS}`,
    "--no-color",
    "--silence-skips",
    "--timeout=75m",
    `--output-dir=${reportDir}`,
    "--junit-report=junit.xml",
    ...FOCUS.map((f) => `--focus=${f.pattern}`),
    ...SKIP.map((s) => `--skip=${s.pattern}`),
    bins.e2eTest,
    "--",
    `--kubeconfig=${kubeconfig}`,
  ];
}

function runGinkgo(bins: ConformanceBinaries, kubeconfig: string, reportDir: string): Promise<number> {
  return new Promise((resolveExit, reject) => {
    const child = spawn(bins.ginkgo, ginkgoArgs(bins, kubeconfig, reportDir), {
      stdio: ["ignore", "inherit", "inherit"],
      // The framework and its kubectl read these; the run must not pick up another cluster.
      env: { ...process.env, KUBECONFIG: kubeconfig },
    });
    child.on("error", (err) => reject(new KubelabError(`could not run ginkgo: ${err.message}`)));
    child.on("exit", (code, signal) => resolveExit(code ?? (signal ? 128 : 1)));
  });
}

function printSummary(s: ConformanceSummary, ms: number, junit: string): void {
  const out = (line: string) => console.error(line);
  out(`\nconformance: ${s.focused} specs focused in ${Math.round(ms / 1000)} s`);
  for (const f of s.failed) out(`  FAIL  ${f.name}\n        ${f.message ?? ""}`);
  for (const k of s.skipped) out(`  SKIP  ${k.name}\n        ${k.message ?? ""}`);
  out(
    `conformance: ${s.passed.length} passed, ${s.failed.length} failed, ${s.skipped.length} skipped (JUnit: ${junit})`,
  );
}
