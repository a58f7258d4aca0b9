/**
 * The kind provider's parts that need no Docker: how it is chosen, the
 * cluster config it gives kind, the mirrors it gives the node's containerd,
 * and its refusal of a class (namespace mode). The provider itself runs in
 * tests/integration/kind-provider.test.ts.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { engineLayout, ENGINE_ADDRESS_POOL } from "../../src/cluster/kind/docker-engine.ts";
import { KindProvider, kindClusterConfig, mirrorHostsToml } from "../../src/cluster/kind/kind-provider.ts";
import { providerFromEnv } from "../../src/cluster/providers.ts";
import { NETWORK } from "../../src/cluster/local/layout.ts";
import { KubelabError } from "../../src/errors.ts";
import { MIRRORED_REGISTRIES } from "../../src/images/catalog.ts";

/** Does CIDR `a` overlap CIDR `b` (IPv4)? */
function overlaps(a: string, b: string): boolean {
  const parse = (cidr: string) => {
    const [ip, bits] = cidr.split("/");
    const n = ip.split(".").reduce((acc, o) => acc * 256 + Number(o), 0);
    const size = 2 ** (32 - Number(bits));
    return [n - (n % size), n - (n % size) + size] as const;
  };
  const [a0, a1] = parse(a);
  const [b0, b1] = parse(b);
  return a0 < b1 && b0 < a1;
}

describe("the kind provider", () => {
  it("is KUBELAB_PROVIDER=kind, its state outside the local cluster's", () => {
    const provider = providerFromEnv({ KUBELAB_PROVIDER: "kind" });
    assert.equal(provider.name, "kind");
    assert.ok(!provider.kubeconfigPath().startsWith("/var/lib/kubelab/"), provider.kubeconfigPath());
    const elsewhere = providerFromEnv({ KUBELAB_PROVIDER: "kind", KUBELAB_KIND_STATE: "/srv/kind" });
    assert.equal(elsewhere.kubeconfigPath(), "/srv/kind/kubeconfig");
  });

  it("keeps every network of its own away from the local cluster's", () => {
    const config = kindClusterConfig("/state/certs.d");
    const ranges = [ENGINE_ADDRESS_POOL, ...[...config.matchAll(/Subnet: ([\d./]+)/g)].map((m) => m[1])];
    assert.equal(ranges.length, 3, config);
    for (const range of ranges)
      for (const local of [NETWORK.podSubnet, "10.96.0.0/12"])
        assert.ok(!overlaps(range, local), `${range} overlaps ${local}`);
  });

  it("gives the node's containerd the catalog's registry as the mirror of each registry the catalog stands in for", () => {
    const config = kindClusterConfig("/state/certs.d");
    assert.match(config, /config_path = "\/etc\/containerd\/certs.d"/);
    assert.match(config, /hostPath: "\/state\/certs.d"\n\s+containerPath: \/etc\/containerd\/certs.d/);
    for (const registry of MIRRORED_REGISTRIES) {
      const hosts = mirrorHostsToml(registry);
      assert.match(hosts, /\[host\."http:\/\/172\.30\.0\.1:\d+"\]\n\s+capabilities = \["pull", "resolve"\]/);
    }
    assert.match(mirrorHostsToml("docker.io"), /server = "https:\/\/registry-1.docker.io"/);
  });

  it("keeps its Docker's sockets short enough for a unix socket path", () => {
    const l = engineLayout("/var/lib/kubelab-kind/engine");
    assert.ok(`${l.containerdSocket}.ttrpc`.length < 100);
    assert.equal(l.dockerHost, `unix://${l.socket}`);
  });

  it("refuses a class (namespace mode) with a hint, before building anything", async () => {
    await assert.rejects(
      new KindProvider("/nonexistent").up({ mode: "namespace" }),
      (err) => err instanceof KubelabError && /single learner/.test(err.message) && Boolean(err.hint),
    );
  });
});
