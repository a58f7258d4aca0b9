/**
 * End-to-end tests: the real lab server (`kubelab start`, which brings the
 * local cluster up idempotently and serves the built site from dist/) and
 * Debian's Chromium. Run through `./kubelab test e2e`, which builds the site
 * first and sets KUBECONFIG to the cluster's admin kubeconfig.
 *
 * One worker: in cluster mode every browser session shares the one local
 * lab (learner namespace `default`, one tmux session).
 */
import { defineConfig } from "@playwright/test";

export const PORT = Number(process.env.KUBELAB_E2E_PORT ?? 4399);
export const BASE_URL = `http://127.0.0.1:${PORT}`;

export default defineConfig({
  testDir: ".",
  testMatch: "*.spec.ts",
  outputDir: "../../test-results/e2e",
  fullyParallel: false,
  workers: 1,
  retries: 0,
  forbidOnly: !!process.env.CI,
  reporter: "list",
  timeout: 180_000,
  expect: { timeout: 15_000 },
  use: {
    baseURL: BASE_URL,
    viewport: { width: 1440, height: 900 },
    browserName: "chromium",
    launchOptions: {
      // Debian's Chromium; Playwright never downloads a browser here.
      executablePath: process.env.KUBELAB_CHROMIUM ?? "/usr/bin/chromium",
      args: [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
      ],
    },
    trace: "retain-on-failure",
    screenshot: "only-on-failure",
    actionTimeout: 15_000,
    navigationTimeout: 30_000,
  },
  webServer: {
    // The Node that runs Playwright (Node 24 under ./kubelab) also runs the server.
    command: `${JSON.stringify(process.execPath)} --disable-warning=ExperimentalWarning src/cli/main.ts start --port ${PORT}`,
    cwd: "../..",
    url: `${BASE_URL}/api/health`,
    reuseExistingServer: false,
    timeout: 5 * 60_000,
    stdout: "pipe",
    stderr: "pipe",
    gracefulShutdown: { signal: "SIGTERM", timeout: 10_000 },
  },
});
