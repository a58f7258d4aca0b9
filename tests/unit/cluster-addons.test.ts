/**
 * The node's add-ons as generated configuration: kube-proxy in nftables mode
 * with its own tables and hands off the host's conntrack settings, CoreDNS
 * on the node IP behind the kube-dns Service (kubeadm's 10th service IP),
 * the kubelet's cluster DNS, pods routed to Service IPs and nowhere else,
 * metrics-server behind an APIService with the aggregation layer's
 * request-header CA, and the add-ons' certificates signed by the right CAs.
 */
import assert from "node:assert/strict";
import { X509Certificate } from "node:crypto";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { loadAllYaml, loadYaml } from "@kubernetes/client-node";
import { addonManifests, apiServerStarting, NETWORK_POLICY_USER } from "../../src/cluster/local/addons.ts";
import { CATALOG, LOCAL_PATH_PROVISIONER_IMAGE } from "../../src/images/catalog.ts";
import { RECIPES } from "../../src/images/recipes.ts";
import { hostHasNameservers, KUBE_PROXY_TABLES, NODE_NFT_TABLES } from "../../src/cluster/local/host.ts";
import { NETWORK, PORTS, stateLayout } from "../../src/cluster/local/layout.ts";
import { LOCAL_PATH_STORAGE_CLASS } from "../../src/images/local-path.ts";
import {
  cniConflist,
  componentArgs,
  corefile,
  kubeletConfigYaml,
  kubeProxyConfigYaml,
} from "../../src/cluster/local/node-config.ts";
import { generateAddonPki, generatePki } from "../../src/cluster/local/pki.ts";
import {
  BUNDLE_SEPARATOR,
  BUNDLED_COMPONENTS,
  NODE_COMPONENTS,
  nodeComponents,
} from "../../src/cluster/local/supervisor.ts";
import { binariesIn } from "../../src/cluster/local/binaries.ts";

const layout = stateLayout("/state");
const flags = (args: string[]) => new Map(args.map((a) => [a.split("=")[0], a.slice(a.indexOf("=") + 1)]));

test("the DNS Service IP is the 10th of the service range, as kubeadm picks it", () => {
  const [base, prefix] = NETWORK.serviceSubnet.split("/");
  assert.equal(prefix, "16");
  const octets = base.split(".").map(Number);
  octets[3] += 10;
  assert.equal(NETWORK.dnsIp, octets.join("."));
});

test("kube-proxy runs in nftables mode, NodePorts on the node IP only, host conntrack untouched", () => {
  const config = loadYaml<any>(kubeProxyConfigYaml(layout));
  assert.equal(config.kind, "KubeProxyConfiguration");
  assert.equal(config.mode, "nftables");
  assert.equal(config.clusterCIDR, NETWORK.podSubnet);
  assert.deepEqual(config.nodePortAddresses, [`${NETWORK.nodeIp}/32`]);
  assert.equal(config.clientConnection.kubeconfig, "/state/kubeconfig/kube-proxy.conf");
  assert.equal(config.conntrack.maxPerCore, 0);
  assert.match(config.healthzBindAddress, /^127\.0\.0\.1:/);
  assert.match(config.metricsBindAddress, /^127\.0\.0\.1:/);
  assert.deepEqual(componentArgs(layout)["kube-proxy"], ["--config=/state/kube-proxy-config.yaml"]);
  // Teardown deletes exactly kube-proxy's tables (nftables mode names them so).
  assert.deepEqual(
    KUBE_PROXY_TABLES.map(([family, name]) => `${family} ${name}`),
    ["ip kube-proxy", "ip6 kube-proxy"],
  );
});

test("pods get a route to Service IPs through the node and no default route", () => {
  const ipam = JSON.parse(cniConflist(layout)).plugins[0].ipam;
  assert.deepEqual(ipam.routes, [{ dst: NETWORK.serviceSubnet, gw: NETWORK.nodeIp }]);
});

test("the kubelet points pods at the cluster DNS with the cluster domain and serves a CA-signed certificate", () => {
  const config = loadYaml<any>(kubeletConfigYaml(layout));
  assert.deepEqual(config.clusterDNS, [NETWORK.dnsIp]);
  assert.equal(config.clusterDomain, "cluster.local");
  assert.equal(config.tlsCertFile, "/state/pki/kubelet-serving.crt");
});

test("CoreDNS serves cluster.local on the node IP; forwards to the host's resolvers only when there are any", () => {
  const online = corefile(layout, { forwardToHost: true });
  assert.match(online, new RegExp(`^\\.:${PORTS.dns} \\{`, "m"));
  assert.match(online, new RegExp(`bind ${NETWORK.nodeIp.replaceAll(".", "\\.")}`));
  assert.match(
    online,
    /kubernetes cluster\.local 96\.10\.in-addr\.arpa \{[^}]*kubeconfig \/state\/kubeconfig\/coredns\.conf kubelab/,
  );
  // Pod addresses get no reverse name: it would name another learner's namespace and Service.
  assert.doesNotMatch(online, /kubernetes[^{]* (in-addr\.arpa|ip6\.arpa|244\.10\.in-addr\.arpa)/);
  assert.match(online, /forward \. \/etc\/resolv\.conf/);
  assert.doesNotMatch(corefile(layout, { forwardToHost: false }), /forward/);
  assert.deepEqual(componentArgs(layout).coredns, ["-conf", "/state/Corefile"]);
  const dir = mkdtempSync(join(tmpdir(), "kubelab-resolv-"));
  writeFileSync(join(dir, "a"), "search example.org\nnameserver 10.0.0.2\n");
  writeFileSync(join(dir, "b"), "# no servers\nsearch example.org\n");
  assert.equal(hostHasNameservers(join(dir, "a")), true);
  assert.equal(hostHasNameservers(join(dir, "b")), false);
  assert.equal(hostHasNameservers(join(dir, "missing")), false);
});

test("kube-dns and metrics-server Services point at the node; metrics.k8s.io is aggregated with the cluster CA", () => {
  const docs: any[] = JSON.parse(JSON.stringify(loadAllYaml(addonManifests("CA-PEM", "/state/local-path"))));
  const find = (kind: string, name: string) => docs.find((d) => d.kind === kind && d.metadata.name === name);
  const dns = find("Service", "kube-dns");
  assert.equal(dns.metadata.namespace, "kube-system");
  assert.equal(dns.spec.clusterIP, NETWORK.dnsIp);
  assert.equal(dns.spec.selector, undefined, "no selector: the Endpoints name the node");
  assert.deepEqual(
    dns.spec.ports.map((p: any) => `${p.port}/${p.protocol}`),
    ["53/UDP", "53/TCP"],
  );
  assert.equal(dns.metadata.labels["k8s-app"], "kube-dns");
  assert.equal(find("Endpoints", "kube-dns").subsets[0].addresses[0].ip, NETWORK.nodeIp);
  const api = find("APIService", "v1beta1.metrics.k8s.io");
  assert.deepEqual(api.spec.service, { name: "metrics-server", namespace: "kube-system", port: 443 });
  assert.equal(Buffer.from(api.spec.caBundle, "base64").toString(), "CA-PEM");
  assert.equal(find("Endpoints", "metrics-server").subsets[0].ports[0].port, PORTS.metricsServer);
  const reader = find("ClusterRole", "system:aggregated-metrics-reader");
  assert.equal(reader.metadata.labels["rbac.authorization.k8s.io/aggregate-to-view"], "true");
  assert.equal(find("ClusterRoleBinding", "system:coredns").subjects[0].name, "system:coredns");
});

test("the API server has the aggregation layer's request-header CA and front-proxy client", () => {
  const api = flags(componentArgs(layout)["kube-apiserver"]);
  assert.equal(api.get("--requestheader-client-ca-file"), "/state/pki/front-proxy-ca.crt");
  assert.equal(api.get("--requestheader-allowed-names"), "front-proxy-client");
  assert.equal(api.get("--proxy-client-cert-file"), "/state/pki/front-proxy-client.crt");
  const ms = flags(componentArgs(layout)["metrics-server"]);
  assert.equal(ms.get("--bind-address"), NETWORK.nodeIp);
  assert.equal(ms.get("--kubelet-certificate-authority"), "/state/pki/ca.crt");
  assert.ok(!componentArgs(layout)["metrics-server"].includes("--kubelet-insecure-tls"));
});

test("the supervisor runs the add-ons from the node binary, after the API server", () => {
  const specs = nodeComponents(layout, binariesIn("/bin-dir"));
  // The API server, the controllers, the kubelet and the add-ons share one process, each with its
  // own flags, after etcd and the container runtime (the kubelet's).
  const bundle = specs.find((s) => s.name === "bundle")!;
  assert.equal(bundle.command, "/bin-dir/kubelab-node");
  assert.deepEqual(bundle.after, ["etcd", "containerd"]);
  assert.equal(bundle.args[0], "bundle");
  const groups = bundle.args.slice(1).join(" ").split(` ${BUNDLE_SEPARATOR} `);
  assert.deepEqual(
    groups,
    BUNDLED_COMPONENTS.map((name) => [name, ...componentArgs(layout)[name]].join(" ")),
  );
  assert.deepEqual([...BUNDLED_COMPONENTS].sort(), [
    "kube-apiserver",
    "kube-controller-manager",
    "kube-proxy",
    "kube-scheduler",
    "kubelet",
    "metrics-server",
  ]);
  // `cluster logs` and the start line name the components from this list.
  assert.deepEqual(
    specs.map((s) => s.name),
    [...NODE_COMPONENTS],
  );
});

test("add-on certificates: cluster CA for clients and servers, a CA of its own for the front proxy", async () => {
  const pki = await generatePki({ nodeName: "n", nodeIp: "10.0.0.1", serviceIp: "10.96.0.1" });
  const addons = await generateAddonPki(pki.ca, { nodeName: "n", nodeIp: "10.0.0.1" });
  const ca = new X509Certificate(pki.ca.cert);
  const cert = (pem: string) => new X509Certificate(pem);
  for (const pair of [
    addons.kubeProxy,
    addons.coredns,
    addons.metricsServer,
    addons.metricsServerServing,
    addons.kubeletServing,
  ]) {
    assert.ok(cert(pair.cert).verify(ca.publicKey));
  }
  assert.match(cert(addons.kubeProxy.cert).subject, /CN=system:kube-proxy/);
  assert.match(cert(addons.metricsServerServing.cert).subjectAltName!, /DNS:metrics-server\.kube-system\.svc/);
  assert.match(cert(addons.kubeletServing.cert).subjectAltName!, /IP Address:10\.0\.0\.1/);
  const frontProxy = new X509Certificate(addons.frontProxyCa.cert);
  assert.ok(cert(addons.frontProxyClient.cert).verify(frontProxy.publicKey));
  assert.ok(
    !cert(addons.frontProxyClient.cert).verify(ca.publicKey),
    "the cluster CA must not vouch for request headers",
  );
  assert.match(cert(addons.frontProxyClient.cert).subject, /CN=front-proxy-client/);
});

test("the NetworkPolicy enforcer runs from the lean node binary with a user that may only read what policies select", () => {
  const args = componentArgs(layout)["network-policy"];
  assert.deepEqual(args, [
    "--kubeconfig=/state/kubeconfig/network-policy.conf",
    `--node-ip=${NETWORK.nodeIp}`,
    `--bridge=${NETWORK.bridge}`,
  ]);
  const spec = nodeComponents(layout, binariesIn("/bin-dir")).find((s) => s.name === "network-policy")!;
  assert.equal(spec.command, "/bin-dir/kubelab-lean");
  assert.deepEqual(spec.args, ["network-policy", ...args]);
  const role = (loadAllYaml(addonManifests("CA", "/state/local-path")) as any[]).find(
    (o) => o.kind === "ClusterRole" && o.metadata.name === NETWORK_POLICY_USER,
  );
  assert.deepEqual(
    role.rules.map((r: any) => [r.resources, r.verbs]),
    [
      [
        ["pods", "namespaces"],
        ["list", "watch"],
      ],
      [["networkpolicies"], ["list", "watch"]],
    ],
  );
  // Teardown deletes its table with kube-proxy's and the node guard's, and no other.
  assert.deepEqual(
    NODE_NFT_TABLES.map(([family, name]) => `${family} ${name}`),
    ["ip kube-proxy", "ip6 kube-proxy", "inet kubelab-netpol", "inet kubelab-node"],
  );
});

test("add-ons are retried while the API server starts, including a ServiceCIDR not ready yet; refusals are not", () => {
  for (const status of [undefined, 500, 503, 404, 429]) assert.ok(apiServerStarting(status, ""), `status ${status}`);
  // A fresh cluster's first seconds: kube-dns's fixed IP before the default ServiceCIDR is ready.
  assert.ok(
    apiServerStarting(
      422,
      'Service "kube-dns" is invalid: spec.clusterIPs: Invalid value: ["10.96.0.10"]: failed to allocate IP 10.96.0.10: the provided network does not match the current range',
    ),
  );
  assert.ok(!apiServerStarting(422, 'Service "kube-dns" is invalid: spec.ports: Required value'));
  assert.ok(!apiServerStarting(403, "forbidden"));
  assert.ok(!apiServerStarting(400, "bad request"));
});

test("the default StorageClass is local-path: its provisioner from the offline catalog, volumes under the state dir", () => {
  const docs: any[] = JSON.parse(JSON.stringify(loadAllYaml(addonManifests("CA", "/state/local-path"))));
  const classes = docs.filter((d) => d.kind === "StorageClass");
  assert.deepEqual(
    classes
      .filter((c) => c.metadata.annotations?.["storageclass.kubernetes.io/is-default-class"] === "true")
      .map((c) => c.metadata.name),
    [LOCAL_PATH_STORAGE_CLASS],
  );
  assert.equal(classes[0].provisioner, "rancher.io/local-path");
  assert.equal(classes[0].volumeBindingMode, "WaitForFirstConsumer");
  const deployment = docs.find((d) => d.kind === "Deployment" && d.metadata.name === "local-path-provisioner");
  // kube-system, which a cluster reset keeps (it deletes every namespace it did not make).
  assert.equal(deployment.metadata.namespace, "kube-system");
  const pod = deployment.spec.template.spec;
  assert.equal(pod.containers[0].image, LOCAL_PATH_PROVISIONER_IMAGE);
  assert.ok(CATALOG.some((image) => image.ref === LOCAL_PATH_PROVISIONER_IMAGE && image.recipe in RECIPES));
  assert.equal(pod.securityContext.runAsNonRoot, true);
  const config = docs.find((d) => d.kind === "ConfigMap" && d.metadata.name === "local-path-config");
  assert.deepEqual(JSON.parse(config.data["config.json"]).nodePathMap[0].paths, ["/state/local-path"]);
  const helper = loadYaml(config.data["helperPod.yaml"]) as any;
  assert.ok(CATALOG.some((image) => image.ref === helper.spec.containers[0].image));
  assert.equal(helper.spec.automountServiceAccountToken, false);
});
