/**
 * The conformance test binaries, built from the cluster/conformance Go module
 * (the node's Kubernetes release) and cached beside the node binaries, keyed
 * by the Kubernetes version and a hash of that module's files:
 * - e2e.test: the upstream e2e specs of the suites kubelab runs (see
 *   cluster/conformance/conformance_test.go for why not all of test/e2e);
 * - ginkgo: the spec runner's CLI, which runs e2e.test in parallel processes;
 * - agnhost: the one program of the specs' main test image, with the test
 *   certificate its TLS servers load (localhost.crt/.key, from the same module).
 */
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync } from "node:fs";
import { join } from "node:path";
import { goCompile, MODULE_DIR, versionLdflags } from "../cluster/local/binaries.ts";
import { KUBERNETES_VERSION } from "../images/catalog.ts";
import { cacheDir } from "../cluster/local/layout.ts";

export const CONFORMANCE_MODULE_DIR = join(MODULE_DIR, "conformance");

export interface ConformanceBinaries {
  dir: string;
  e2eTest: string;
  ginkgo: string;
  agnhost: string;
  agnhostCert: string;
  agnhostKey: string;
}

/** Hash of the module's files (go.mod, go.sum and the test main decide the output). */
function moduleKey(): string {
  const hash = createHash("sha256");
  for (const name of readdirSync(CONFORMANCE_MODULE_DIR).sort()) {
    if (/\.(go|mod|sum)$/.test(name)) hash.update(name).update(readFileSync(join(CONFORMANCE_MODULE_DIR, name)));
  }
  return hash.digest("hex").slice(0, 12);
}

export function conformanceBinariesDir(): string {
  return join(cacheDir(), "bin", `conformance-${KUBERNETES_VERSION}-${moduleKey()}`);
}

function binariesIn(dir: string): ConformanceBinaries {
  const at = (name: string) => join(dir, name);
  return {
    dir,
    e2eTest: at("e2e.test"),
    ginkgo: at("ginkgo"),
    agnhost: at("agnhost"),
    agnhostCert: at("localhost.crt"),
    agnhostKey: at("localhost.key"),
  };
}

/**
 * Return the conformance binaries, building them first when the cache lacks
 * them. A cold build compiles most of Kubernetes again (the module's versions
 * are its own), so it takes minutes; progress is reported every 20 seconds.
 */
export async function ensureConformanceBinaries(
  onProgress: (line: string) => void = () => {},
): Promise<ConformanceBinaries> {
  const final = conformanceBinariesDir();
  const bins = binariesIn(final);
  if (Object.values(bins).every((p) => existsSync(p))) return bins;
  // Per process, so two builders never write into one directory.
  const staging = `${final}.partial-${process.pid}`;
  rmSync(staging, { recursive: true, force: true });
  mkdirSync(staging, { recursive: true });
  const started = Date.now();
  onProgress(
    `building the Kubernetes ${KUBERNETES_VERSION} conformance tests from the Go module proxy (a cold build needs about 7 CPU-minutes, 18 minutes on 2 busy cores; cached afterwards in ${final})`,
  );
  const build = ["build", "-trimpath", "-ldflags", "-s -w"];
  const builds: { out: string; pkg: string; args: string[] }[] = [
    // No vet: it would analyse every dependency of the specs, for minutes.
    { out: "e2e.test", pkg: ".", args: ["test", "-c", "-vet=off", "-trimpath", "-ldflags", versionLdflags()] },
    { out: "ginkgo", pkg: "github.com/onsi/ginkgo/v2/ginkgo", args: build },
    { out: "agnhost", pkg: "k8s.io/kubernetes/test/images/agnhost", args: build },
  ];
  for (const { out, pkg, args } of builds) {
    await goCompile([...args, "-o", join(staging, out), pkg], CONFORMANCE_MODULE_DIR, {
      what: "conformance test binaries",
      label: `go ${args[0]} ${pkg}`,
      tick: (elapsed) => onProgress(`  go ${args[0]} ${out}: ${Math.round(elapsed / 1000)} s elapsed ...`),
    });
    onProgress(
      `  built ${out} (${(statSync(join(staging, out)).size / 1048576).toFixed(0)} MiB) after ${Math.round((Date.now() - started) / 1000)} s`,
    );
  }
  const kubernetes = execFileSync("go", ["list", "-m", "-f", "{{.Dir}}", "k8s.io/kubernetes"], {
    cwd: CONFORMANCE_MODULE_DIR,
    encoding: "utf8",
  }).trim();
  for (const name of ["localhost.crt", "localhost.key"])
    copyFileSync(join(kubernetes, "test/images/agnhost/porter", name), join(staging, name));
  rmSync(final, { recursive: true, force: true });
  renameSync(staging, final);
  onProgress(`conformance binaries ready in ${Math.round((Date.now() - started) / 1000)} s`);
  return bins;
}
