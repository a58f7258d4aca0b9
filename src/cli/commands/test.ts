/**
 * `./kubelab test [format|typecheck|unit|integration|security|verify|container|kind|e2e|conformance ...]`: the one
 * test command (the README's and CI's). With no argument it runs every layer in
 * order: the formatter's check (Prettier), types (tsc for the server side,
 * `astro check` for the site), unit
 * tests (fakes), integration tests on the real local cluster, the attack
 * suite, `lab verify` of every exercise, the all-in-one image and the kind
 * provider (each under a Docker of its own), end-to-end tests in Chromium
 * (which build the lesson site first when dist/ is missing or stale), and
 * the upstream Kubernetes conformance specs of the areas learners touch.
 */
import { spawn } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { providerFromEnv } from "../../cluster/providers.ts";
import { testConformance } from "../../conformance/conformance.ts";
import { SERVER_NICE_ENV } from "../../host/cpu-weight.ts";
import { BROWSER_PACKAGES, DOCKER_PACKAGES, ensureHostPackages, POSTGRES_PACKAGES } from "../../setup/host-packages.ts";
import { ensureSite } from "../../site-build/site-build.ts";

const ROOT = resolve(import.meta.dirname, "../../..");
const LAYERS = [
  "format",
  "typecheck",
  "unit",
  "integration",
  "security",
  "verify",
  "container",
  "kind",
  "e2e",
  "conformance",
] as const;
type Layer = (typeof LAYERS)[number];

/**
 * Tests never touch the learner's own progress store: every layer of one run
 * shares a fresh store file (tests that need their own still set KUBELAB_STORE).
 * The servers they start keep the default CPU priority: a raised one is the
 * session's (src/host/cpu-weight.ts), and would let the whole test run outrank
 * the cluster it tests.
 */
const TEST_ENV: NodeJS.ProcessEnv = {
  KUBELAB_STORE: join(mkdtempSync(join(tmpdir(), "kubelab-test-")), "progress.db"),
  [SERVER_NICE_ENV]: "0",
};

function sh(command: string, args: string[], env: NodeJS.ProcessEnv = {}, cwd = ROOT): Promise<number> {
  return new Promise((resolveExit) => {
    const child = spawn(command, args, { cwd, stdio: "inherit", env: { ...process.env, ...TEST_ENV, ...env } });
    child.on("error", (err) => {
      console.error(`could not run ${command}: ${err.message}`);
      resolveExit(127);
    });
    child.on("exit", (code, signal) => resolveExit(code ?? (signal ? 128 : 1)));
  });
}

/** `go test` in a Go module under cluster/ (default: the node binaries'), built as they are: no cgo, modules resolved from go.sum. */
const goTest = (packages: string[], module = "cluster") =>
  sh("go", ["test", "-count=1", ...packages], { CGO_ENABLED: "0", GOFLAGS: "-mod=mod" }, join(ROOT, module));

const node = (args: string[], env?: NodeJS.ProcessEnv) =>
  sh(process.execPath, ["--disable-warning=ExperimentalWarning", ...args], env);
const npx = (args: string[], env?: NodeJS.ProcessEnv) =>
  sh(resolve(ROOT, "node_modules/.bin", args[0]), args.slice(1), env);

async function clusterEnv(): Promise<NodeJS.ProcessEnv> {
  const info = await providerFromEnv().up({ onProgress: (line) => console.error(line) });
  return { KUBECONFIG: info.kubeconfig, KUBELAB_NODE_NAME: info.nodeName };
}

/** The built lesson site: the class pages the unit, integration and security tests fetch are its pages. */
const site = () => ensureSite({ onProgress: (line) => console.error(line) });

const run: Record<Layer, () => Promise<number>> = {
  format: () => node(["src/cli/main.ts", "format", "--check"]),
  typecheck: async () => {
    const code = await npx(["tsc", "--noEmit", "-p", "."]);
    return code !== 0 ? code : node(["src/site-build/astro-check.ts"]);
  },
  // TypeScript against fakes, then the Go packages: the node binaries' own (etcd's set-up, the NetworkPolicy
  // compiler) and the toolbox's terminal agent.
  unit: async () => {
    await site();
    let code = await node(["--test", "--test-reporter=spec", "tests/unit/**/*.test.ts"]);
    if (code === 0) code = await goTest(["./internal/..."]);
    return code !== 0 ? code : goTest(["."], "cluster/terminal-agent");
  },
  // The store's tests run on SQLite and on a PostgreSQL 15 server each test file starts (tests/support/postgres.ts).
  integration: async () => {
    await ensureHostPackages(POSTGRES_PACKAGES, (line) => console.error(line), { startServices: false });
    const [env] = await Promise.all([clusterEnv(), site()]);
    const code = await node(
      ["--test", "--test-concurrency=1", "--test-reporter=spec", "tests/integration/*.test.ts"],
      env,
    );
    // The life-cycle tests stop and restart the cluster, so they run last.
    return code !== 0
      ? code
      : node(["--test", "--test-concurrency=1", "--test-reporter=spec", "tests/integration/lifecycle/*.test.ts"], env);
  },
  // The attack suite (tests/security/): each attack on the real server and cluster.
  security: async () => {
    const [env] = await Promise.all([clusterEnv(), site()]);
    return node(["--test", "--test-concurrency=1", "--test-reporter=spec", "tests/security/*.test.ts"], env);
  },
  // Every exercise (fails before, passes after), then every exam task under several seeds.
  verify: async () => {
    const env = await clusterEnv();
    const code = await node(["src/cli/main.ts", "lab", "verify"], env);
    return code !== 0 ? code : node(["src/cli/main.ts", "lab", "verify", "--exam"], env);
  },
  // The all-in-one image (`./kubelab image build`) on Debian's Docker, with a daemon of the test's own
  // (never Debian's docker.service, whose iptables rules would sit under the embedded cluster).
  container: async () => {
    await ensureHostPackages(DOCKER_PACKAGES, (line) => console.error(line), { startServices: false });
    return node(["--test", "--test-concurrency=1", "--test-reporter=spec", "tests/container/*.test.ts"]);
  },
  // KUBELAB_PROVIDER=kind: the provider builds and runs its own Docker (docs/kind.md), brings a kind cluster up,
  // runs lessons through a real server on it and takes it all down.
  kind: () =>
    node(["--test", "--test-reporter=spec", "tests/integration/kind-provider.test.ts"], { KUBELAB_PROVIDER: "kind" }),
  e2e: async () => {
    await ensureHostPackages(BROWSER_PACKAGES, (line) => console.error(line));
    const [env] = await Promise.all([clusterEnv(), site()]);
    return npx(["playwright", "test", "--config", "tests/e2e/playwright.config.ts"], env);
  },
  // The slowest layer, so last: builds the e2e test binary once (cached), then runs the specs.
  conformance: () =>
    testConformance({
      provider: providerFromEnv(),
      reportDir: join(ROOT, "test-results", "conformance"),
      onProgress: (line) => console.error(line),
    }),
};

export default async function testCommand(args: string[]): Promise<number> {
  const unknown = args.filter((a) => !(LAYERS as readonly string[]).includes(a));
  if (unknown.length > 0) {
    console.error(`unknown test layer(s): ${unknown.join(", ")}; choose from ${LAYERS.join(", ")}`);
    return 2;
  }
  const layers = args.length > 0 ? (args as Layer[]) : [...LAYERS];
  const results: [Layer, number, number][] = [];
  for (const layer of layers) {
    console.error(`\n=== ${layer} ===`);
    const started = Date.now();
    const code = await run[layer]();
    results.push([layer, code, Date.now() - started]);
    // Later layers stand on earlier ones: stop at the first failure.
    if (code !== 0) break;
  }
  console.error("\n=== summary ===");
  for (const [layer, code, ms] of results)
    console.error(`${code === 0 ? "PASS" : "FAIL"}  ${layer.padEnd(12)} ${(ms / 1000).toFixed(1)} s`);
  const failed = results.some(([, code]) => code !== 0) || results.length < layers.length;
  return failed ? 1 : 0;
}
