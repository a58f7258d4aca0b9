/**
 * The CLI's flags are strict (node:util parseArgs): an unknown flag is an
 * error naming the nearest known one with the command's usage, never ignored
 * (`start --prot 80` used to start on 4321); `<command> --help` prints that
 * command's usage.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { describe, it } from "node:test";
import { parseArgs } from "../../src/cli/args.ts";
import { KubelabError } from "../../src/errors.ts";

const ROOT = resolve(import.meta.dirname, "../..");
const cli = (...args: string[]) =>
  spawnSync(process.execPath, ["--disable-warning=ExperimentalWarning", "src/cli/main.ts", ...args], {
    cwd: ROOT,
    encoding: "utf8",
    timeout: 60_000,
    // A state directory of its own: should a regression start the server, it touches nothing shared.
    env: { ...process.env, KUBELAB_STATE: join(mkdtempSync(join(tmpdir(), "kubelab-cli-")), "state") },
  });

describe("CLI flags", () => {
  const spec = {
    usage: "./kubelab start [--port N]",
    strings: ["port", "host"],
    repeated: ["allowed-host"],
    booleans: ["open-labs"],
  };

  it("parses values, repeated flags, booleans and positionals", () => {
    const p = parseArgs(
      ["x", "--port", "80", "--host=h", "--allowed-host", "a", "--allowed-host=b", "--open-labs"],
      spec,
    );
    assert.deepEqual(p.positional, ["x"]);
    assert.equal(p.flags.get("port"), "80");
    assert.equal(p.flags.get("host"), "h");
    assert.equal(p.flags.get("open-labs"), true);
    assert.deepEqual(p.all("allowed-host"), ["a", "b"]);
    assert.equal(p.flags.has("nope"), false);
  });

  it("takes a value that starts with a dash (a base64url learner id), but not one of its own flags", () => {
    // One learner id in 64 starts with '-': `progress export --learner -x3Kq` failed as an ambiguous option.
    const p = parseArgs(["--host", "-x3Kq", "--allowed-host", "-a", "--allowed-host", "_b", "--", "--port"], spec);
    assert.equal(p.flags.get("host"), "-x3Kq");
    assert.deepEqual(p.all("allowed-host"), ["-a", "_b"]);
    assert.deepEqual(p.positional, ["--port"]);
    assert.throws(() => parseArgs(["--host", "--open-labs"], spec), KubelabError, "a forgotten value stays an error");
    assert.throws(() => parseArgs(["--host", "--port=1"], spec), KubelabError);
  });

  it("refuses an unknown flag with the nearest known one and the usage", () => {
    assert.throws(
      () => parseArgs(["--prot", "80"], spec),
      (err: unknown) =>
        err instanceof KubelabError &&
        /--prot/.test(err.message) &&
        /did you mean --port\?/.test(err.hint ?? "") &&
        /usage: \.\/kubelab start/.test(err.hint ?? ""),
    );
    assert.throws(() => parseArgs(["--port"], spec), KubelabError, "a value flag without its value");
    assert.throws(() => parseArgs(["--open-labs=yes"], spec), KubelabError, "a boolean flag given a value");
  });

  it("`start --prot 80` fails with a hint instead of starting on 4321", () => {
    const run = cli("start", "--prot", "80");
    assert.notEqual(run.status, 0);
    assert.match(run.stderr, /--prot/);
    assert.match(run.stderr, /did you mean --port\?/);
    assert.doesNotMatch(run.stdout + run.stderr, /kubelab is ready/);
  });

  it("`<command> --help` prints that command's usage", () => {
    const start = cli("start", "--help");
    assert.equal(start.status, 0);
    assert.match(start.stdout, /^usage: \.\/kubelab start /);
    assert.match(start.stdout, /--open-labs/);
    assert.doesNotMatch(start.stdout, /progress export/, "only start's usage");
    const progress = cli("progress", "--help");
    assert.match(progress.stdout, /^usage: \.\/kubelab progress export/);
  });
});
