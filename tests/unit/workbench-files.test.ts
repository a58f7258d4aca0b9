/**
 * The editor's file access: the path checks here and the toolbox scripts run
 * for real (sh, coreutils) on a temporary directory standing in for the
 * toolbox's working directory; attacks as tests. Then the routes: a session
 * reaches its own lab's files only.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, it } from "node:test";
import { createLabServer } from "../../src/server/server.ts";
import {
  checkFilePath,
  MAX_FILE_BYTES,
  toolboxFiles,
  type ExecOutcome,
  type ToolboxExec,
} from "../../src/workbench/editor/toolbox-files.ts";
import { FakeExecTransport, FakeLabManager } from "../fakes/server-fakes.ts";

/** Runs argv on this machine, as the API's exec runs it in the toolbox. */
const localExec: ToolboxExec = (argv, stdin, limit) =>
  new Promise<ExecOutcome>((resolve, reject) => {
    const child = spawn(argv[0]!, argv.slice(1), { stdio: ["pipe", "pipe", "pipe"] });
    const out: Buffer[] = [];
    let err = "";
    child.stdout.on("data", (c: Buffer) => out.push(c));
    child.stderr.on("data", (c: Buffer) => (err += c));
    child.on("error", reject);
    child.on("close", (code) => {
      const stdout = Buffer.concat(out);
      resolve(
        stdout.length > limit
          ? { stdout: Buffer.alloc(0), stderr: "too large", exitCode: 5 }
          : { stdout, stderr: err, exitCode: code },
      );
    });
    child.stdin.end(stdin);
  });

function workDir() {
  const base = mkdtempSync(join(tmpdir(), "kubelab-files-"));
  const root = join(base, "pod");
  mkdirSync(root);
  writeFileSync(join(base, "secret"), "outside");
  return { base, root, files: toolboxFiles(localExec, root) };
}

const status = async (promise: Promise<unknown>) =>
  promise.then(
    () => 200,
    (err) => (err as { status?: number }).status,
  );

describe("workbench files: confinement and bounds", () => {
  it("refuses paths that are not plain relative names before anything runs", () => {
    for (const bad of [
      "../secret",
      "a/../../secret",
      "/etc/passwd",
      "",
      "a//b",
      ".",
      "..",
      "a/./b",
      "a b",
      "-rf",
      "x".repeat(300),
      "a/b/c/d/e",
    ])
      assert.throws(() => checkFilePath(bad), /bad file path/, JSON.stringify(bad));
    assert.equal(checkFilePath("jobs/echo.yaml"), "jobs/echo.yaml");
  });

  it("reads, writes (making directories) and lists files; the terminal's files are the same", async () => {
    const { root, files } = workDir();
    writeFileSync(join(root, "job.yaml"), "kind: Job\n");
    assert.equal(await files.read("job.yaml"), "kind: Job\n");
    assert.equal(await files.write("jobs/echo.yaml", "kind: CronJob\n"), 14);
    assert.equal(readFileSync(join(root, "jobs/echo.yaml"), "utf8"), "kind: CronJob\n");
    mkdirSync(join(root, ".hidden"));
    writeFileSync(join(root, ".hidden/x"), "");
    assert.deepEqual(await files.list(), {
      files: [
        { path: "job.yaml", size: 10 },
        { path: "jobs/echo.yaml", size: 14 },
      ],
      truncated: false,
    });
  });

  it("refuses symlinks that lead outside the directory, for reading and for writing", async () => {
    const { base, root, files } = workDir();
    symlinkSync(join(base, "secret"), join(root, "link"));
    symlinkSync(base, join(root, "up"));
    assert.equal(await status(files.read("link")), 400);
    assert.equal(await status(files.read("up/secret")), 400);
    assert.equal(await status(files.write("up/planted", "x")), 400);
    assert.equal(await status(files.write("link", "x")), 400);
    assert.equal(readFileSync(join(base, "secret"), "utf8"), "outside", "nothing written outside");
    // A symlink that stays inside is followed.
    writeFileSync(join(root, "real.yaml"), "a: 1\n");
    symlinkSync(join(root, "real.yaml"), join(root, "alias.yaml"));
    assert.equal(await files.read("alias.yaml"), "a: 1\n");
  });

  it("bounds sizes: a huge file is neither read nor written", async () => {
    const { root, files } = workDir();
    writeFileSync(join(root, "huge.yaml"), Buffer.alloc(MAX_FILE_BYTES + 1, 97));
    assert.equal(await status(files.read("huge.yaml")), 400);
    assert.equal(await status(files.write("big.yaml", "a".repeat(MAX_FILE_BYTES + 1))), 413);
    assert.equal(await status(files.read("missing.yaml")), 404);
  });
});

describe("workbench routes", () => {
  const servers: { close(): Promise<void> }[] = [];
  afterEach(async () => Promise.all(servers.splice(0).map((s) => s.close())));

  it("give each session its own lab's files only, and refuse other origins", async () => {
    const labManager = new FakeLabManager("namespace");
    const dirs = new Map<string, ReturnType<typeof workDir>>();
    const server = createLabServer({
      labManager,
      grade: { has: () => false, grade: async () => assert.fail("no grading") },
      terminalTransport: new FakeExecTransport().terminals(),
      port: 0,
      workbench: {
        files: (lab) => {
          if (!dirs.has(lab.learnerId)) dirs.set(lab.learnerId, workDir());
          return dirs.get(lab.learnerId)!.files;
        },
        schemas: { schema: async () => undefined },
        apply: async () => assert.fail("no apply"),
        learner: (lab) => ({
          namespace: lab.namespace,
          serviceAccount: { namespace: lab.toolboxNamespace, name: "learner" },
        }),
      },
    });
    const base = await server.listen();
    servers.push(server);
    const session = async () => {
      const res = await fetch(`${base}/api/lab`, { method: "POST", headers: { origin: base } });
      return res.headers.get("set-cookie")!.split(";")[0]!;
    };
    const a = await session();
    const b = await session();
    const write = (cookie: string, origin = base) =>
      fetch(`${base}/api/lab/file`, {
        method: "POST",
        headers: { cookie, origin, "content-type": "application/json" },
        body: JSON.stringify({ path: "mine.yaml", content: "a: 1\n" }),
      });
    assert.equal((await write(a)).status, 200);
    assert.equal((await fetch(`${base}/api/lab/file?path=mine.yaml`, { headers: { cookie: a } })).status, 200);
    // The other learner's session: not their file, not in their list.
    assert.equal((await fetch(`${base}/api/lab/file?path=mine.yaml`, { headers: { cookie: b } })).status, 404);
    assert.deepEqual((await (await fetch(`${base}/api/lab/files`, { headers: { cookie: b } })).json()).files, []);
    // No session, another site's page.
    assert.equal((await fetch(`${base}/api/lab/files`)).status, 401);
    assert.equal((await write(b, "https://evil.example")).status, 403);
    assert.equal((await fetch(`${base}/api/lab/file?path=../x`, { headers: { cookie: a } })).status, 400);
  });
});
