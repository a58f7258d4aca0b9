/**
 * `cluster down` leaves no nftables table of the node's (kube-proxy's own
 * tables, the NetworkPolicy enforcer's) and touches no other table of the
 * host's; `up` brings them back.
 * Runs with the life-cycle tests because it stops the cluster.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { NODE_NFT_TABLES } from "../../../src/cluster/local/host.ts";
import { run } from "../../../src/host/run.ts";
import { eventually, kubelab } from "../../support/cluster.ts";

const ours = new Set(NODE_NFT_TABLES.map(([family, name]) => `${family} ${name}`));

/** Every nftables table on the host, as "family name". */
async function tables(): Promise<string[]> {
  const out = await run("nft", ["list", "tables"]);
  return out
    .split("\n")
    .map((l) => l.replace(/^table /, "").trim())
    .filter(Boolean)
    .sort();
}

test(
  "cluster down deletes the node's nftables tables and nothing else; up restores them",
  { timeout: 600_000 },
  async () => {
    const up = await kubelab(["cluster", "up"], { timeoutMs: 300_000 });
    assert.equal(up.code, 0, up.stderr);
    const ip = await eventually(
      async () => {
        const all = await tables();
        return [...ours].every((t) => all.includes(t)) && all;
      },
      "kube-proxy's and the NetworkPolicy enforcer's tables",
      30_000,
    );
    const hosts = ip.filter((t) => !ours.has(t));
    // A host rule of someone else's, to prove it is left alone.
    await run("nft", ["add", "table", "inet", "kubelab-test-bystander"]);
    try {
      const down = await kubelab(["cluster", "down"], { timeoutMs: 120_000 });
      assert.equal(down.code, 0, down.stderr);
      const after = await tables();
      assert.deepEqual(
        after.filter((t) => ours.has(t)),
        [],
        "no table of the node's left",
      );
      assert.deepEqual(
        after.filter((t) => t !== "inet kubelab-test-bystander"),
        hosts,
        "the host's other tables untouched",
      );
      assert.ok(after.includes("inet kubelab-test-bystander"));
    } finally {
      await run("nft", ["delete", "table", "inet", "kubelab-test-bystander"], { allowFail: true });
      const again = await kubelab(["cluster", "up"], { timeoutMs: 300_000 });
      assert.equal(again.code, 0, again.stderr);
    }
    await eventually(
      async () => {
        const all = await tables();
        return [...ours].every((t) => all.includes(t));
      },
      "the node's tables after up",
      30_000,
    );
  },
);
