/**
 * The `local` provider: a real single-node cluster made of host processes
 * (see docs/architecture.md §2). `up` is a sequence of ordered steps sharing one state
 * directory; each step is idempotent, so `up` after an unclean stop recovers.
 */
import { spawn } from "node:child_process";
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { KubelabError, wrapError } from "../../errors.ts";
import type { ClusterInfo, ClusterProvider, ClusterStatus, UpOptions } from "../provider.ts";
import { ensureBinaries, ensureImageBinaries, type NodeBinaries } from "./binaries.ts";
import { commandLine, enableBridgeNetfilter, hostHasNameservers, isAlive, linkExists, runningNodeStates, sleep } from "./host.ts";
import { run } from "../../host/run.ts";
import { cacheDir, defaultStateDir, NETWORK, NODE_NAME, stateLayout, type StateLayout } from "./layout.ts";
import {
  API_SERVER_URL,
  cniConflist,
  containerdConfigToml,
  corefile,
  kubeconfigYaml,
  kubeProxyConfigYaml,
  kubeletConfigYaml,
  LOCAL_REGISTRY,
  localRegistryServerTls,
  registryMirrors,
} from "./node-config.ts";
import { generateAddonPki, generateClientCertificate, generateEtcdPki, generatePki, generateRegistryPki, type KeyPairPem } from "./pki.ts";
import { applyAddons, NETWORK_POLICY_USER, waitForClusterDns } from "./addons.ts";
import { encryptStoredSecrets, ensureEncryptionConfig } from "./encryption.ts";
import { checkCgroups, checkCommands, checkOverlayfs, checkPorts, checkRoot, mountMissingHierarchies } from "./preflight.ts";
import { checkReadiness, waitUntilReady } from "./readiness.ts";
import { applyNodeGuard } from "./node-guard.ts";
import { teardownNode } from "./teardown.ts";
import { runSteps, type UpStep } from "./up-steps.ts";
import { BUNDLED_COMPONENTS, NODE_COMPONENTS } from "./supervisor.ts";
import { writeSupervisorScript } from "./supervisor-script.ts";
import { resetClusterObjects } from "./reset.ts";
import { RegistryClient, registryConfigYaml, type RegistryTls } from "../../images/registry.ts";
import { checkImagesPresent, ensureImages } from "../../images/build.ts";
import { CATALOG } from "../../images/catalog.ts";
import { insideAllInOne, prepareContainerHost } from "./container.ts";
import { ensureAptLists, ensureHostPackages, NODE_PACKAGES } from "../../setup/host-packages.ts";

const READY_TIMEOUT_MS = 180_000;

export class LocalProvider implements ClusterProvider {
  readonly name = "local";
  readonly layout: StateLayout;

  constructor(stateDir: string = defaultStateDir()) {
    this.layout = stateLayout(stateDir);
  }

  kubeconfigPath(): string {
    return this.layout.adminKubeconfig;
  }

  /** What a client of the node's image registry presents (its CA and the client certificate), made on the first `up`. */
  registryTls(): RegistryTls {
    const read = (name: string) => readFileSync(join(this.layout.registryPki, name), "utf8");
    return { ca: read("ca.crt"), cert: read("client.crt"), key: read("client.key") };
  }

  /** PID of the running supervisor, if any. */
  supervisorPid(): number | undefined {
    try {
      const pid = Number(readFileSync(this.layout.supervisorPid, "utf8"));
      // The pid must still be our supervisor, not a reused pid of another program.
      return pid > 0 && isAlive(pid) && commandLine(pid).includes("supervisor-main") ? pid : undefined;
    } catch {
      return undefined;
    }
  }

  async up(options: UpOptions = {}): Promise<ClusterInfo> {
    const started = Date.now();
    const progress = (line: string) => options.onProgress?.(`[${((Date.now() - started) / 1000).toFixed(1)}s] ${line}`);
    const steps = await runSteps([{ name: "check the host", run: () => this.checkHost(progress) }], progress);
    mkdirSync(this.layout.run, { recursive: true });
    const releaseLock = this.acquireUpLock();
    const stopAddons = new AbortController();
    // The add-ons' objects (kube-dns, metrics-server, their RBAC) go in as soon as the API
    // server answers, while images are checked and the node gets Ready.
    let addons: Promise<void> | undefined;
    const startAddons = () => {
      const ca = readFileSync(join(this.layout.pki, "ca.crt"), "utf8");
      const applying = applyAddons(this.kubeconfigPath(), ca, this.layout.localVolumes, {
        timeoutMs: READY_TIMEOUT_MS,
        signal: stopAddons.signal,
      });
      applying.catch(() => undefined); // awaited in its step; a failure is reported there
      return applying;
    };
    let bins: NodeBinaries | undefined;
    let nodeName: string = NODE_NAME;
    // Only what this `up` made is taken down on failure (bridge, processes): a cluster found running stays up.
    let madeNode = false;
    const alreadyRunning = Boolean(this.supervisorPid());
    if (alreadyRunning) progress("cluster already running; checking it is ready");
    // Installed before any pod can start, and again on a running node (an older kubelab's had none).
    const guardStep: UpStep = { name: "node firewall", run: () => applyNodeGuard(this.layout) };
    const startSteps: UpStep[] = [
      {
        name: "clean up after any earlier run",
        run: async () => {
          this.refuseSecondNode();
          madeNode = true;
          await teardownNode(this.layout);
        },
      },
      { name: "node binaries", run: async () => void (bins = await ensureBinaries(progress)) },
      { name: "state and certificates", run: () => this.prepareState(bins!, progress) },
      {
        name: "node network",
        run: async () => {
          await this.createBridge();
          await checkPorts();
        },
      },
      guardStep,
      {
        name: "start node processes",
        run: async () => {
          progress(`starting ${NODE_COMPONENTS.join(", ")}`);
          this.spawnSupervisor(bins!);
          addons = startAddons();
        },
      },
      { name: "offline images", run: () => this.pushImages(progress) },
    ];
    const readySteps: UpStep[] = [
      { name: "node Ready", run: async () => void (nodeName = await this.waitForNode(progress)) },
      {
        name: "add-ons and cluster DNS",
        run: async () => {
          await (addons ?? startAddons());
          await waitForClusterDns();
        },
      },
      {
        name: "Secrets encrypted at rest",
        run: async () => {
          const reencrypted = await encryptStoredSecrets(this.layout, this.kubeconfigPath());
          if (reencrypted > 0) progress(`encrypted ${reencrypted} Secrets stored before encryption at rest`);
          if (!existsSync(this.layout.bootstrapped)) writeFileSync(this.layout.bootstrapped, new Date().toISOString());
        },
      },
    ];
    try {
      steps.push(
        ...(await runSteps([...(alreadyRunning ? [guardStep] : startSteps), ...readySteps], progress, async () => {
          // State files stay for the next try; the logs stay for `./kubelab cluster logs`.
          if (madeNode) await this.down();
        })),
      );
      progress("cluster ready");
      return {
        server: API_SERVER_URL,
        kubeconfig: this.kubeconfigPath(),
        nodeName,
        durationMs: Date.now() - started,
        steps,
        // kubelab runs on the node, whose bridge carries the pods' network.
        podNetworkReachable: true,
        podCidr: NETWORK.podSubnet,
      };
    } finally {
      stopAddons.abort();
      releaseLock();
    }
  }

  async down(): Promise<void> {
    checkRoot();
    const pid = this.supervisorPid();
    if (pid) {
      process.kill(pid, "SIGTERM");
      for (let waited = 0; waited < 30_000 && isAlive(pid); waited += 100) await sleep(100);
      if (isAlive(pid)) process.kill(pid, "SIGKILL");
    }
    // Idempotent, and covers a supervisor that was killed with -9.
    await teardownNode(this.layout);
    rmSync(this.layout.supervisorPid, { force: true });
  }

  /** Stop and delete the cluster's state (its PKI, etcd data and containers). */
  async purge(): Promise<void> {
    await this.down();
    rmSync(this.layout.root, { recursive: true, force: true });
  }

  async reset(): Promise<void> {
    if (!this.supervisorPid()) {
      throw new KubelabError("the local cluster is not running", "start it with `./kubelab cluster up`");
    }
    await resetClusterObjects(this.kubeconfigPath());
  }

  async status(): Promise<ClusterStatus> {
    const pid = this.supervisorPid();
    if (!pid) return { state: "stopped", components: [] };
    let components: ClusterStatus["components"] = [];
    try {
      components = JSON.parse(readFileSync(this.layout.status, "utf8")).components;
    } catch {
      /* the supervisor has not written its status yet */
    }
    const readiness = await checkReadiness(this.kubeconfigPath());
    const allRunning = components.length > 0 && components.every((c) => c.running);
    return {
      state: readiness.ready && allRunning ? "running" : "degraded",
      components,
      server: API_SERVER_URL,
      details: readiness.ready ? `node ${readiness.nodeName} Ready` : `waiting for ${readiness.waitingFor.join(", ")}`,
    };
  }

  /** Paths of the component log files; a bundled component (kube-scheduler) logs into its process's ("bundle"). */
  logFiles(): Record<string, string> {
    const log = (name: string) => join(this.layout.logs, `${name}.log`);
    return Object.fromEntries([
      ...["supervisor", ...NODE_COMPONENTS].map((n) => [n, log(n)]),
      ...BUNDLED_COMPONENTS.map((n) => [n, log("bundle")]),
    ]);
  }

  /** The host checks: root, the node's Debian packages (in the all-in-one image: its container's mounts), cgroups and overlayfs. */
  private async checkHost(progress: (line: string) => void): Promise<void> {
    checkRoot();
    if (insideAllInOne()) await prepareContainerHost();
    else {
      await ensureHostPackages(NODE_PACKAGES, progress);
      await ensureAptLists(progress);
    }
    checkCommands();
    checkCgroups();
    await mountMissingHierarchies(progress);
    await checkOverlayfs();
  }

  /** Wait until the node is Ready; returns its name. */
  private async waitForNode(progress: (line: string) => void): Promise<string> {
    const readiness = await waitUntilReady(this.kubeconfigPath(), {
      timeoutMs: READY_TIMEOUT_MS,
      onProgress: progress,
      exited: () => !this.supervisorPid(),
    });
    if (readiness.supervisorExited) {
      throw new KubelabError("the node supervisor exited before the cluster was ready", this.logHint());
    }
    if (!readiness.ready) {
      throw new KubelabError(
        `the cluster did not become ready within ${READY_TIMEOUT_MS / 1000} s (still waiting for ${readiness.waitingFor.join(", ")})`,
        this.logHint(),
      );
    }
    return readiness.nodeName ?? NODE_NAME;
  }

  private logHint(): string {
    return `see the component logs with \`./kubelab cluster logs <component>\` (files in ${this.layout.logs})`;
  }

  /** The node's bridge and ports are machine-wide: one local cluster per machine. */
  private refuseSecondNode(): void {
    const other = runningNodeStates().find((state) => state !== this.layout.root);
    if (other) {
      throw new KubelabError(
        `another kubelab local cluster is running on this machine (state dir ${other})`,
        `stop it first with \`KUBELAB_STATE=${other} ./kubelab cluster down\`, or use that one`,
      );
    }
  }

  /** Only one `up` at a time per state dir; a lock left by a dead process is taken over. */
  private acquireUpLock(): () => void {
    const lock = this.layout.upLock;
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        const fd = openSync(lock, "wx");
        writeFileSync(fd, String(process.pid));
        closeSync(fd);
        return () => rmSync(lock, { force: true });
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
        const holder = Number(readFileSync(lock, "utf8"));
        if (holder > 0 && isAlive(holder)) {
          throw new KubelabError(
            `another \`kubelab cluster up\` is already starting this cluster (pid ${holder})`,
            "wait for it to finish, then run your command again (`./kubelab cluster status` shows progress)",
          );
        }
        rmSync(lock, { force: true });
      }
    }
    throw new KubelabError(`could not take the lock ${lock}`, "remove it if no kubelab is running");
  }

  /**
   * Directories, PKI and kubeconfigs (first run only), then configs (every
   * run). Parts added in later versions (etcd's PKI, the encryption key) are
   * made when missing, so a state dir from an older kubelab still comes up.
   */
  private async prepareState(bins: NodeBinaries, progress: (line: string) => void): Promise<void> {
    const l = this.layout;
    const writePair = (dir: string, name: string, pair: KeyPairPem) => {
      writeFileSync(join(dir, `${name}.crt`), pair.cert);
      writeFileSync(join(dir, `${name}.key`), pair.key, { mode: 0o600 });
    };
    for (const dir of [l.pki, l.etcdPki, l.registryPki, l.kubeconfigs, l.etcd, l.containerd, l.kubelet, l.cniConf, l.cniIpam, l.logs, l.run]) {
      mkdirSync(dir, { recursive: true });
    }
    if (!existsSync(join(l.pki, "ca.crt"))) {
      progress("generating certificates");
      const pki = await generatePki({ nodeName: NODE_NAME, nodeIp: NETWORK.nodeIp, serviceIp: NETWORK.serviceIp });
      const pairs: [string, { cert: string; key: string }][] = [
        ["ca", pki.ca],
        ["apiserver", pki.apiserver],
        ["apiserver-kubelet-client", pki.apiserverKubeletClient],
      ];
      for (const [name, pair] of pairs) writePair(l.pki, name, pair);
      writeFileSync(join(l.pki, "sa.key"), pki.serviceAccount.key, { mode: 0o600 });
      writeFileSync(join(l.pki, "sa.pub"), pki.serviceAccount.pub);
      const kubeconfigs: [string, string, { cert: string; key: string }][] = [
        ["admin.conf", "kubelab-admin", pki.admin],
        ["controller-manager.conf", "system:kube-controller-manager", pki.controllerManager],
        ["scheduler.conf", "system:kube-scheduler", pki.scheduler],
        ["kubelet.conf", `system:node:${NODE_NAME}`, pki.kubelet],
      ];
      for (const [file, user, pair] of kubeconfigs) {
        writeFileSync(join(l.kubeconfigs, file), kubeconfigYaml(user, pki.ca.cert, pair), { mode: 0o600 });
      }
    }
    // The API server's etcd client certificate is written last: its presence means the set is complete.
    if (!existsSync(join(l.pki, "apiserver-etcd-client.crt"))) {
      progress("generating etcd's certificates");
      const etcd = await generateEtcdPki();
      writePair(l.etcdPki, "ca", etcd.ca);
      writePair(l.etcdPki, "server", etcd.server);
      writePair(l.etcdPki, "peer", etcd.peer);
      writePair(l.pki, "apiserver-etcd-client", etcd.apiserverClient);
    }
    if (!existsSync(join(l.registryPki, "client.crt"))) {
      progress("generating the image registry's certificates");
      const registry = await generateRegistryPki();
      writePair(l.registryPki, "ca", registry.ca);
      writePair(l.registryPki, "server", registry.server);
      writePair(l.registryPki, "client", registry.client);
    }
    // The add-ons' credentials (kube-proxy, CoreDNS, metrics-server, the aggregation layer,
    // the kubelet's serving certificate); the front proxy's client certificate is written last.
    if (!existsSync(join(l.pki, "front-proxy-client.crt"))) {
      progress("generating the add-ons' certificates");
      const ca = { cert: readFileSync(join(l.pki, "ca.crt"), "utf8"), key: readFileSync(join(l.pki, "ca.key"), "utf8") };
      const addons = await generateAddonPki(ca, { nodeName: NODE_NAME, nodeIp: NETWORK.nodeIp });
      const kubeconfigs: [string, string, KeyPairPem][] = [
        ["kube-proxy.conf", "system:kube-proxy", addons.kubeProxy],
        ["coredns.conf", "system:coredns", addons.coredns],
        ["metrics-server.conf", "system:metrics-server", addons.metricsServer],
      ];
      for (const [file, user, pair] of kubeconfigs) {
        writeFileSync(join(l.kubeconfigs, file), kubeconfigYaml(user, ca.cert, pair), { mode: 0o600 });
      }
      writePair(l.pki, "metrics-server", addons.metricsServerServing);
      writePair(l.pki, "kubelet-serving", addons.kubeletServing);
      writePair(l.pki, "front-proxy-ca", addons.frontProxyCa);
      writePair(l.pki, "front-proxy-client", addons.frontProxyClient);
    }
    // The NetworkPolicy enforcer's credentials (user system:kubelab-network-policy), added later.
    const networkPolicyConf = join(l.kubeconfigs, "network-policy.conf");
    if (!existsSync(networkPolicyConf)) {
      const ca = { cert: readFileSync(join(l.pki, "ca.crt"), "utf8"), key: readFileSync(join(l.pki, "ca.key"), "utf8") };
      const client = await generateClientCertificate(ca, NETWORK_POLICY_USER);
      writeFileSync(networkPolicyConf, kubeconfigYaml(NETWORK_POLICY_USER, ca.cert, client), { mode: 0o600 });
    }
    ensureEncryptionConfig(l);
    writeFileSync(l.containerdConfig, containerdConfigToml(l, bins.runcWrapper));
    for (const { registry, hostsToml } of registryMirrors(l)) {
      mkdirSync(join(l.containerd, "certs.d", registry), { recursive: true });
      writeFileSync(join(l.containerd, "certs.d", registry, "hosts.toml"), hostsToml);
    }
    writeFileSync(join(l.cniConf, "10-kubelab.conflist"), cniConflist(l));
    writeFileSync(l.kubeletConfig, kubeletConfigYaml(l));
    writeFileSync(l.kubeProxyConfig, kubeProxyConfigYaml(l));
    writeFileSync(l.corefile, corefile(l, { forwardToHost: hostHasNameservers() }));
    mkdirSync(join(cacheDir(), "registry"), { recursive: true });
    writeFileSync(l.registryConfig, registryConfigYaml(join(cacheDir(), "registry"), LOCAL_REGISTRY, localRegistryServerTls(l)));
  }

  /** The node's bridge carries the node IP, so the API server can bind it before any pod exists. */
  private async createBridge(): Promise<void> {
    const { bridge, bridgeMac, nodeIp, podSubnet } = NETWORK;
    try {
      if (!(await linkExists(bridge))) await run("ip", ["link", "add", "name", bridge, "address", bridgeMac, "type", "bridge"]);
      // A bridge made by an older kubelab follows its ports' addresses (see NETWORK.bridgeMac): pin it.
      else if (!(await run("ip", ["-o", "link", "show", "dev", bridge])).includes(`link/ether ${bridgeMac} `))
        await run("ip", ["link", "set", "dev", bridge, "address", bridgeMac]);
      const prefix = podSubnet.split("/")[1];
      const addrs = await run("ip", ["-o", "-4", "addr", "show", "dev", bridge]);
      if (!addrs.includes(`${nodeIp}/`)) await run("ip", ["addr", "add", `${nodeIp}/${prefix}`, "dev", bridge]);
      await run("ip", ["link", "set", bridge, "up"]);
      await enableBridgeNetfilter();
    } catch (err) {
      throw wrapError(err, `failed to create the node's network bridge ${bridge}`, "the local cluster needs root with CAP_NET_ADMIN (ip link add ... type bridge)");
    }
  }

  private spawnSupervisor(bins: NodeBinaries): void {
    const log = openSync(join(this.layout.logs, "supervisor.log"), "a");
    const entry = writeSupervisorScript(join(this.layout.run, "supervisor"));
    const child = spawn(process.execPath, [entry, this.layout.root, bins.dir], {
      detached: true,
      stdio: ["ignore", log, log],
    });
    closeSync(log);
    child.unref();
    writeFileSync(this.layout.supervisorPid, String(child.pid));
  }

  /** Build (cold) or verify (warm) the offline images, once the registry answers; the all-in-one image brings them built. */
  private async pushImages(progress: (line: string) => void): Promise<void> {
    const registryTls = this.registryTls();
    const registry = new RegistryClient(LOCAL_REGISTRY, registryTls);
    for (let waited = 0; ; waited += 100) {
      if (await registry.ping()) break;
      if (waited > 30_000 || !this.supervisorPid()) {
        throw new KubelabError("the local image registry did not start", this.logHint());
      }
      await sleep(100);
    }
    if (insideAllInOne()) return checkImagesPresent(registry, CATALOG);
    await ensureImages({
      cacheDir: join(cacheDir(), "images"),
      registry: LOCAL_REGISTRY,
      registryTls,
      binaries: (await ensureImageBinaries(progress)).binaries,
      onProgress: progress,
    });
  }
}
