import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, it } from "node:test";
import { clusterCommand } from "../../src/cli/commands/cluster.ts";
import { KubeconfigProvider } from "../../src/cluster/kubeconfig/kubeconfig-provider.ts";
import { KubelabError } from "../../src/errors.ts";

const refused = (pattern: RegExp) => (err: unknown) =>
  err instanceof KubelabError && pattern.test(err.message) && Boolean(err.hint);

describe("cluster providers: logs and purge are part of the interface", () => {
  it("the kubeconfig provider refuses purge and component logs with a hint", async () => {
    const provider = new KubeconfigProvider("/nonexistent/kubeconfig");
    await assert.rejects(provider.purge(), refused(/not supported by the kubeconfig provider/));
    assert.throws(() => provider.logFiles(), refused(/not supported by the kubeconfig provider/));
  });

  it("the CLI asks the provider, whichever it is", async () => {
    const saved = { provider: process.env.KUBELAB_PROVIDER, kubeconfig: process.env.KUBECONFIG };
    process.env.KUBELAB_PROVIDER = "kubeconfig";
    process.env.KUBECONFIG = "/nonexistent/kubeconfig";
    try {
      await assert.rejects(clusterCommand(["logs", "kubelet"]), refused(/component logs are not supported/));
      await assert.rejects(clusterCommand(["down", "--purge"]), refused(/--purge` is not supported/));
    } finally {
      for (const [key, value] of [
        ["KUBELAB_PROVIDER", saved.provider],
        ["KUBECONFIG", saved.kubeconfig],
      ] as const) {
        if (value === undefined) delete process.env[key];
        else process.env[key] = value;
      }
    }
    const cli = readFileSync(new URL("../../src/cli/commands/cluster.ts", import.meta.url), "utf8");
    assert.doesNotMatch(cli, /instanceof\s+LocalProvider/);
  });
});
