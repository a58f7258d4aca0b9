/**
 * Teardown of the local node: used by the supervisor on a clean stop and by
 * `up`/`down` to recover from an unclean one (everything killed with -9).
 * Afterwards no process, mount, veth, bridge or nftables table of this state dir remains.
 */
import { rmSync } from "node:fs";
import { bridgePorts, killPodProcesses, linkExists, markedProcesses, NODE_NFT_TABLES, removePodCgroups, signalProcesses, sleep, unmountAll } from "./host.ts";
import { run } from "../../host/run.ts";
import { NETWORK, type StateLayout } from "./layout.ts";

export interface TeardownOptions {
  /** Stops the supervised containerd gracefully; when absent it is killed by marker. */
  stopContainerd?: () => Promise<void>;
}

export async function teardownNode(layout: StateLayout, options: TeardownOptions = {}): Promise<void> {
  // 1. Containers first, so their shims exit and their mounts are released.
  for (let round = 0; round < 5 && killPodProcesses() > 0; round++) await sleep(100);
  if (options.stopContainerd) await options.stopContainerd();
  // 2. Anything else we started (components, shims) that is still around.
  for (let round = 0; round < 20; round++) {
    const pids = markedProcesses(layout.root);
    if (pids.length === 0) break;
    signalProcesses(pids, round < 10 ? "SIGTERM" : "SIGKILL");
    await sleep(150);
  }
  killPodProcesses();
  // 3. Mounts (container rootfs, netns, pod volumes, shm) — all live under the state dir.
  await unmountAll(layout.root);
  removePodCgroups();
  // 4. Network: veths vanish with their namespaces; delete any stragglers and the bridge.
  for (const port of await bridgePorts(NETWORK.bridge)) await run("ip", ["link", "del", port], { allowFail: true });
  if (await linkExists(NETWORK.bridge)) await run("ip", ["link", "del", NETWORK.bridge], { allowFail: true });
  // 5. kube-proxy's, the NetworkPolicy enforcer's (both stopped by now) and the node guard's own nftables tables;
  // no other rule of the host is touched.
  for (const [family, table] of NODE_NFT_TABLES) await run("nft", ["delete", "table", family, table], { allowFail: true });
  // host-local IPAM allocations would otherwise leak addresses across restarts.
  rmSync(layout.cniIpam, { recursive: true, force: true });
}
