/**
 * The front door, from nothing: a clone of the repository without dist/, its
 * own `./kubelab start` — which has to build the lesson site by itself, with
 * the launcher's Node rather than the machine's — and then /en/job/ in
 * Chromium, with a terminal that echoes what the learner types.
 *
 * To stay quick the clone borrows this tree's node_modules as hard links (not
 * a symlink: Vite would see two paths for one module; the launcher's install
 * stamp matches, so it installs nothing), without the build caches so that
 * nothing the clone writes lands in this tree. Its server runs on
 * a port of its own in namespace mode, so its lab is a namespace of its own
 * beside the shared `default` one; the cluster is the shared local one, which
 * `start` brings up idempotently.
 */
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { delimiter, dirname, join, resolve } from "node:path";
import { expect, test } from "@playwright/test";
import { expectTerminal, openLesson, runInTerminal } from "./support.ts";

const REPO = resolve(import.meta.dirname, "../..");
const READY = /kubelab is ready: (http:\/\/\S+?)\/\s/;
const START_TIMEOUT_MS = 8 * 60_000;
/** Inside the tree's ignored test output: the same file system, so node_modules can be hard-linked. */
const CLONES = join(REPO, "test-results", "clones");
/** Caches tools rewrite in place: a hard-linked copy would write through into this tree. */
const CACHES = [".vite", ".astro", ".cache"];

let clone: string;
let server: ChildProcess | undefined;
let output = "";
let url: string;

function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const probe = createServer();
    probe.once("error", reject);
    probe.listen(0, "127.0.0.1", () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolvePort(port));
    });
  });
}

/** Resolve with the URL `start` prints; reject, with everything it printed, if it exits or hangs first. */
function waitForReady(child: ChildProcess): Promise<string> {
  return new Promise((resolveUrl, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`./kubelab start printed no URL within ${START_TIMEOUT_MS / 60_000} min:\n${output}`)),
      START_TIMEOUT_MS,
    );
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const ready = READY.exec(output);
      if (ready) {
        clearTimeout(timer);
        resolveUrl(ready[1]);
      }
    };
    child.stdout!.on("data", onData);
    child.stderr!.on("data", onData);
    child.once("exit", (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`./kubelab start exited (${code ?? signal}) before it was ready:\n${output}`));
    });
  });
}

test.describe.configure({ mode: "serial" });

test.beforeAll(async () => {
  test.setTimeout(START_TIMEOUT_MS + 60_000);
  mkdirSync(CLONES, { recursive: true });
  clone = mkdtempSync(join(CLONES, "kubelab-"));
  execFileSync("git", ["clone", "--quiet", REPO, clone]);
  try {
    execFileSync("cp", ["-al", join(REPO, "node_modules"), clone]);
  } catch {
    execFileSync("cp", ["-a", join(REPO, "node_modules"), clone]); // another file system: a plain copy
  }
  for (const cache of CACHES) rmSync(join(clone, "node_modules", cache), { recursive: true, force: true });
  expect(existsSync(join(clone, "dist")), "a fresh clone has no built site").toBe(false);

  // Without the Node that runs this test on PATH: the launcher must find its own Node 24
  // (a distribution's `node` may be too old for Astro), as on a fresh machine.
  const testNode = dirname(process.execPath);
  const PATH = (process.env.PATH ?? "")
    .split(delimiter)
    .filter((dir) => dir !== testNode)
    .join(delimiter);
  const port = await freePort();
  server = spawn(join(clone, "kubelab"), ["start", "--port", String(port), "--mode", "namespace"], {
    cwd: clone,
    // A store of its own: a namespace-mode server adopts every lab its store knows, and the
    // cluster-mode server of the other specs must keep its lab.
    env: {
      ...process.env,
      PATH,
      KUBELAB_NODE: "",
      KUBELAB_STORE: join(mkdtempSync(join(CLONES, "store-")), "progress.db"),
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  url = await waitForReady(server);
});

test.afterAll(async () => {
  if (server && server.exitCode === null) {
    const exited = new Promise((r) => server!.once("exit", r));
    server.kill("SIGTERM");
    await Promise.race([exited, new Promise((r) => setTimeout(r, 15_000))]);
    if (server.exitCode === null) server.kill("SIGKILL");
  }
  if (clone) rmSync(clone, { recursive: true, force: true });
});

test("a clone without dist/ builds its lesson site on the first ./kubelab start", async () => {
  expect(output).toMatch(/building the lesson site \(first run, ~\d+ s\) \.\.\./);
  const built = /lesson site built in ([\d.]+) s/.exec(output);
  expect(built, `start says how long the build took:\n${output}`).toBeTruthy();
  test.info().annotations.push({ type: "cold site build", description: `${built![1]} s` });
  console.log(`cold site build in the clone: ${built![1]} s`);
  await test.info().attach("kubelab start output", { body: output, contentType: "text/plain" });
  const stamp = JSON.parse(readFileSync(join(clone, "dist", "kubelab-site.json"), "utf8")) as { node: string };
  expect(stamp.node, "Astro ran under the launcher's Node 24").toMatch(/^v24\./);
  expect(output).not.toMatch(/npm run build|site not served/);
});

test("/en/job/ of that clone has a live terminal", async ({ page }) => {
  await openLesson(page, `${url}/en/job/`);
  await expect(page.locator("h1")).toContainText("Jobs");
  await runInTerminal(page, "echo fresh-clone-$((6*7))");
  await expectTerminal(page, /fresh-clone-42/);
  // The lab is a namespace of its own: remove it, as a learner leaving would.
  const deleted = await page.request.delete(`${url}/api/lab`);
  expect(deleted.ok(), `DELETE /api/lab: ${deleted.status()}`).toBeTruthy();
});
