/** The supervisor's copy-and-truncate rotation of component logs. */
import assert from "node:assert/strict";
import { appendFileSync, mkdtempSync, openSync, readFileSync, rmSync, statSync, writeSync, closeSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { rotateLog } from "../../src/cluster/local/supervisor.ts";

test("a log past the limit is copied to .1 and truncated; the writer's next line lands at the start", () => {
  const dir = mkdtempSync(join(tmpdir(), "kubelab-log-"));
  try {
    const path = join(dir, "etcd.log");
    const writer = openSync(path, "a", 0o600); // as the component holds it: append mode
    writeSync(writer, "x".repeat(2000) + "\n");
    assert.equal(rotateLog(path, 1000), true);
    assert.equal(statSync(path).size, 0);
    assert.equal(readFileSync(`${path}.1`, "utf8").length, 2001);
    assert.equal(statSync(`${path}.1`).mode & 0o777, 0o600);
    writeSync(writer, "after\n");
    closeSync(writer);
    assert.equal(readFileSync(path, "utf8"), "after\n");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("a log under the limit, or a missing one, is left alone", () => {
  const dir = mkdtempSync(join(tmpdir(), "kubelab-log-"));
  try {
    const path = join(dir, "kubelet.log");
    appendFileSync(path, "short\n");
    assert.equal(rotateLog(path, 1000), false);
    assert.equal(readFileSync(path, "utf8"), "short\n");
    assert.equal(rotateLog(join(dir, "missing.log"), 1000), false);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
