import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { requireCluster } from "../../bench/support.ts";
import { KubelabError } from "../../src/errors.ts";

test("a bench that needs the cluster fails fast with a hint when none answers", async () => {
  const dir = mkdtempSync(join(tmpdir(), "kubelab-bench-"));
  const kubeconfig = join(dir, "admin.conf");
  // Port 9 (discard) has no listener here, so the API's /version is refused at once.
  writeFileSync(
    kubeconfig,
    [
      "apiVersion: v1",
      "kind: Config",
      "clusters: [{name: c, cluster: {server: 'https://127.0.0.1:9'}}]",
      "users: [{name: u, user: {token: t}}]",
      "contexts: [{name: x, context: {cluster: c, user: u}}]",
      "current-context: x",
    ].join("\n"),
  );
  try {
    await assert.rejects(requireCluster(kubeconfig), (err: unknown) => {
      assert.ok(err instanceof KubelabError);
      assert.match(err.message, /needs a running cluster/);
      assert.match(err.message, new RegExp(kubeconfig));
      assert.match(err.hint ?? "", /\.\/kubelab cluster up/);
      return true;
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
