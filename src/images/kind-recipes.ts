/**
 * The kind node image's recipes (src/images/kind-node.ts builds the image):
 * what kind's own node image holds (systemd as PID 1, containerd, runc, the
 * CNI plugins, kubeadm, the kubelet, /kind/version and /kind/manifests), made
 * from Debian's packages and kubelab's binaries, and the one layer every
 * control-plane image inside the node shares. Written for kubelab: kind asks
 * of a node image only the paths named in docs/kind.md.
 */
import { localPathProvisioner } from "./local-path.ts";
import { KUBERNETES_VERSION } from "./catalog.ts";
import { DEFAULT_PATH } from "./manifest.ts";
import type { FileEntry, ImageRecipe } from "./recipe.ts";

/** Where the node keeps the archive of the images its containerd imports at first boot. */
export const KIND_IMAGES_ARCHIVE = "/kind/images/kubernetes.tar";
/** The image the default CNI's DaemonSet runs (the control-plane images' layer, under a name of its own). */
export const KIND_NETWORK_IMAGE = "docker.io/kubelab/kind-network:1";
/** Where the default StorageClass's volumes are made on a node. */
const LOCAL_VOLUMES = "/var/local-path-provisioner";

/**
 * Runs before systemd (the image's entrypoint): what a node needs of its
 * container that a runtime does not set up, then `exec` to init. kind waits
 * for the line "detected cgroup v1" (or systemd's "Reached target
 * Multi-User System") before it runs anything in the node.
 */
const ENTRYPOINT = `#!/bin/bash
# kubelab kind node: prepare the container for systemd and the kubelet, then exec init.
set -euo pipefail
log() { echo "INFO: $*" >&2; }

# systemd treats a read-only /sys as "in a container"; pods' mounts must propagate (rshared).
mount -o remount,ro /sys
mount --make-rshared /

if [[ -f /sys/fs/cgroup/cgroup.controllers ]]; then
  log "detected cgroup v2"
else
  # cgroup v1: the kubelet's cgroup root (/kubelet) and systemd's kubelet.slice must exist in every
  # hierarchy, each a mount point of its own so the container's cgroup namespace root stays untouched.
  if [[ "$(grep -E '^[^:]*:([^:]*,)?cpu(,[^:]*)?:' /proc/self/cgroup | cut -d: -f3)" != "/" ]]; then
    echo "ERROR: cgroup v1 without a cgroup namespace: run the node with --cgroupns=private" >&2
    exit 1
  fi
  # The misc controller is one runc cannot join from here; hide it from /proc/cgroups as well.
  if [[ -d /sys/fs/cgroup/misc ]]; then
    umount /sys/fs/cgroup/misc && rmdir /sys/fs/cgroup/misc
    grep -v misc /proc/cgroups >/kind/cgroups && mount --bind /kind/cgroups /proc/cgroups
  fi
  mount --make-rprivate /sys/fs/cgroup
  for hierarchy in $(findmnt -lun -o target -t cgroup); do
    for root in kubelet kubelet.slice; do
      mkdir -p "$hierarchy/$root"
      if [[ "$hierarchy" == */cpuset ]]; then
        cat "$hierarchy/cpuset.cpus" >"$hierarchy/$root/cpuset.cpus"
        cat "$hierarchy/cpuset.mems" >"$hierarchy/$root/cpuset.mems"
      fi
      mount --bind "$hierarchy/$root" "$hierarchy/$root"
    done
  done
  log "detected cgroup v1"
fi

# Every node its own machine id and product uuid (the kubelet reports both; kubeadm join checks uuids differ).
rm -f /etc/machine-id && systemd-machine-id-setup >/dev/null
[[ -f /kind/product_uuid ]] || cat /proc/sys/kernel/random/uuid >/kind/product_uuid
for uuid in /sys/class/dmi/id/product_uuid /sys/devices/virtual/dmi/id/product_uuid; do
  [[ -f "$uuid" ]] && mount -o ro,bind /kind/product_uuid "$uuid"
done

# Docker's embedded DNS answers on 127.0.0.11 inside the node's network namespace only, and pods get the
# node's resolv.conf: in a pod that address is the pod's own loopback (CoreDNS's loop check stops it).
# Give the DNS the gateway's address instead, for the node (OUTPUT) and for its pods (PREROUTING);
# replies from a loopback address to a pod need route_localnet.
if grep -q '^nameserver 127\\.0\\.0\\.11$' /etc/resolv.conf; then
  gateway="$(ip -4 route show default | cut -d' ' -f3)"
  iptables-save |
    sed -e "s/-d 127\\.0\\.0\\.11/-d $gateway/g" \\
      -e 's/^-A OUTPUT \\(.*\\) -j DOCKER_OUTPUT$/&\\n-A PREROUTING \\1 -j DOCKER_OUTPUT/' \\
      -e "s/--to-source :53/--to-source $gateway:53/g" |
    iptables-restore
  # resolv.conf is a bind mount: rewrite it in place.
  resolv="$(sed "s/^nameserver 127\\.0\\.0\\.11$/nameserver $gateway/" /etc/resolv.conf)"
  echo "$resolv" >/etc/resolv.conf
  sysctl -qw net.ipv4.conf.all.route_localnet=1
  log "docker's DNS at $gateway"
fi

log "starting init"
exec "$@"
`;

/** containerd 1.6's CRI settings (config version 2), as kind's node sets them. */
const CONTAINERD_CONFIG = `# kubelab kind node
version = 2

[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "registry.k8s.io/pause:3.10.1"
  tolerate_missing_hugepages_controller = true
  restrict_oom_score_adj = false

[plugins."io.containerd.grpc.v1.cri".containerd]
  snapshotter = "overlayfs"
  default_runtime_name = "runc"
  discard_unpacked_layers = true

[plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
  runtime_type = "io.containerd.runc.v2"

[plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
  SystemdCgroup = true
  # runc through kubelab's wrapper: where the node lacks CAP_SYS_RESOURCE (so does the host), a pod
  # sandbox's oom_score_adj of -998 would fail runc's init (cluster/cmd/runc-wrapper).
  BinaryName = "/usr/local/bin/runc-wrapper"
`;

/** The kubelet under systemd, with kubeadm's flags and the cgroups kind's kubeadm config names. */
const KUBELET_SERVICE = `[Unit]
Description=kubelet: the Kubernetes node agent
# kubeadm writes the config; until then there is nothing to run.
ConditionPathExists=/var/lib/kubelet/config.yaml
Wants=kind-images.service
After=kind-images.service containerd.service

[Service]
EnvironmentFile=-/var/lib/kubelet/kubeadm-flags.env
ExecStartPre=/bin/sh -euc "if [ ! -f /sys/fs/cgroup/cgroup.controllers ]; then mkdir -p /sys/fs/cgroup/systemd/kubelet; fi"
ExecStart=/usr/bin/kubelet --bootstrap-kubeconfig=/etc/kubernetes/bootstrap-kubelet.conf --kubeconfig=/etc/kubernetes/kubelet.conf --config=/var/lib/kubelet/config.yaml --runtime-cgroups=/system.slice/containerd.service $KUBELET_KUBEADM_ARGS
Restart=always
RestartSec=1s
StartLimitInterval=0
CPUAccounting=true
MemoryAccounting=true
Slice=kubelet.slice
KillMode=process

[Install]
WantedBy=multi-user.target
`;

const KUBELET_SLICE = `[Unit]
Description=slice the kubelet and its pods run in
Before=slices.target

[Slice]
MemoryAccounting=true
CPUAccounting=true
`;

/** The control-plane images, imported once into containerd's k8s.io namespace: the node has no registry to pull from. */
const IMAGES_SERVICE = `[Unit]
Description=import the node's Kubernetes images into containerd
Requires=containerd.service
After=containerd.service
ConditionPathExists=!/var/lib/kind-images/imported

[Service]
Type=oneshot
RemainAfterExit=yes
ExecStart=/usr/bin/ctr --namespace k8s.io images import ${KIND_IMAGES_ARCHIVE}
ExecStart=/bin/sh -c "mkdir -p /var/lib/kind-images && touch /var/lib/kind-images/imported"

[Install]
WantedBy=multi-user.target
`;

/**
 * The default CNI kind applies (/kind/manifests/default-cni.yaml): the
 * standard bridge and host-local plugins on each node's pod CIDR, and a route
 * to every other node's pod CIDR through that node. kind replaces
 * {{ .PodSubnet }} when a manifest asks it to ("would you kindly template this file").
 */
const DEFAULT_CNI = `# would you kindly template this file
# kubelab kind node: bridge + host-local on the node's pod CIDR (cluster pod subnet {{ .PodSubnet }}).
apiVersion: v1
kind: ServiceAccount
metadata:
  name: kind-network
  namespace: kube-system
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata:
  name: kind-network
rules:
- apiGroups: [""]
  resources: [nodes]
  verbs: [get, list]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata:
  name: kind-network
roleRef:
  apiGroup: rbac.authorization.k8s.io
  kind: ClusterRole
  name: kind-network
subjects:
- kind: ServiceAccount
  name: kind-network
  namespace: kube-system
---
apiVersion: apps/v1
kind: DaemonSet
metadata:
  name: kind-network
  namespace: kube-system
  labels:
    app: kind-network
spec:
  selector:
    matchLabels:
      app: kind-network
  template:
    metadata:
      labels:
        app: kind-network
    spec:
      hostNetwork: true
      serviceAccountName: kind-network
      priorityClassName: system-node-critical
      tolerations:
      - operator: Exists
      containers:
      - name: kind-network
        image: ${KIND_NETWORK_IMAGE}
        imagePullPolicy: IfNotPresent
        command: [/bin/bash, -euc]
        args:
        - |
          until cidr=$(kubectl get node "$NODE_NAME" -o 'jsonpath={.spec.podCIDR}') && [ -n "$cidr" ]; do sleep 2; done
          cat >/etc/cni/net.d/.10-kind-bridge.conflist <<EOF
          {"cniVersion": "1.0.0", "name": "kind-bridge", "plugins": [
            {"type": "bridge", "bridge": "kind-br0", "isGateway": true, "hairpinMode": true,
             "ipam": {"type": "host-local", "ranges": [[{"subnet": "$cidr"}]], "routes": [{"dst": "0.0.0.0/0"}]}},
            {"type": "portmap", "capabilities": {"portMappings": true}}]}
          EOF
          mv /etc/cni/net.d/.10-kind-bridge.conflist /etc/cni/net.d/10-kind-bridge.conflist
          echo "pod CIDR $cidr on kind-br0"
          while :; do
            kubectl get nodes -o 'jsonpath={range .items[*]}{.metadata.name} {.spec.podCIDR} {.status.addresses[?(@.type=="InternalIP")].address}{"\\n"}{end}' |
              while read -r name podcidr ip; do
                [ "$name" != "$NODE_NAME" ] && [ -n "$podcidr" ] && [ -n "$ip" ] && ip route replace "$podcidr" via "$ip"
              done || true
            sleep 10
          done
        env:
        - name: NODE_NAME
          valueFrom:
            fieldRef:
              fieldPath: spec.nodeName
        securityContext:
          capabilities:
            add: [NET_ADMIN]
        resources:
          requests:
            cpu: 10m
            memory: 16Mi
        volumeMounts:
        - name: cni-config
          mountPath: /etc/cni/net.d
      volumes:
      - name: cni-config
        hostPath:
          path: /etc/cni/net.d
          type: DirectoryOrCreate
`;

/** iptables through nf_tables (Debian's default alternative; kube-proxy's iptables mode and the portmap plugin call these). */
const IPTABLES_NFT: Record<string, FileEntry> = Object.fromEntries(
  ["iptables", "iptables-save", "iptables-restore", "ip6tables", "ip6tables-save", "ip6tables-restore"].map((n) => [
    `/usr/sbin/${n}`,
    { symlink: "xtables-nft-multi" },
  ]),
);

/** Units systemd must not start in a node container (devices, the host's kernel settings). */
const MASKED_UNITS = [
  "systemd-udevd.service",
  "systemd-udevd-control.socket",
  "systemd-udevd-kernel.socket",
  "systemd-udev-trigger.service",
  "systemd-binfmt.service",
  "systemd-tmpfiles-setup.service",
  "systemd-modules-load.service",
  "systemd-remount-fs.service",
  "getty.target",
];

export const KIND_RECIPES: Readonly<Record<string, ImageRecipe>> = {
  /**
   * The node: Debian with systemd, containerd, runc and the CNI plugins;
   * kubelab's node binary as the kubelet, upstream kubeadm, kubectl; kind's
   * paths (/kind/version, /kind/manifests). src/images/kind-node.ts adds the
   * images archive above it.
   */
  "kind-node": {
    name: "kind-node",
    base: "debian",
    packages: [
      "base-files",
      "bash",
      "coreutils",
      "diffutils",
      "findutils",
      "grep",
      "sed",
      "gzip",
      "procps",
      "mount",
      "util-linux",
      "kmod",
      "ca-certificates",
      "libc-bin",
      "systemd",
      "containerd",
      "runc",
      "containernetworking-plugins",
      "iproute2",
      "iptables",
      "nftables",
      "conntrack",
      "ethtool",
      "socat",
    ],
    files: {
      "/usr/local/bin/entrypoint": { content: ENTRYPOINT, mode: 0o755 },
      "/sbin/init": { symlink: "/usr/lib/systemd/systemd" },
      "/usr/local/bin/kubelab-node": { binary: "kubelabNode", mode: 0o755 },
      "/usr/bin/kubelet": { symlink: "/usr/local/bin/kubelab-node" },
      "/usr/local/bin/runc-wrapper": { binary: "runcWrapper", mode: 0o755 },
      "/usr/bin/kubeadm": { binary: "kubeadm", mode: 0o755 },
      "/usr/bin/kubectl": { binary: "kubectl", mode: 0o755 },
      ...IPTABLES_NFT,
      "/etc/containerd/config.toml": { content: CONTAINERD_CONFIG },
      "/etc/systemd/system/kubelet.service": { content: KUBELET_SERVICE },
      "/etc/systemd/system/kubelet.slice": { content: KUBELET_SLICE },
      "/etc/systemd/system/kind-images.service": { content: IMAGES_SERVICE },
      "/etc/systemd/system/multi-user.target.wants/kubelet.service": { symlink: "/etc/systemd/system/kubelet.service" },
      "/etc/systemd/system/multi-user.target.wants/containerd.service": {
        symlink: "/usr/lib/systemd/system/containerd.service",
      },
      "/etc/systemd/system/multi-user.target.wants/kind-images.service": {
        symlink: "/etc/systemd/system/kind-images.service",
      },
      "/etc/systemd/system/default.target": { symlink: "/usr/lib/systemd/system/multi-user.target" },
      ...Object.fromEntries(MASKED_UNITS.map((u) => [`/etc/systemd/system/${u}`, { symlink: "/dev/null" }])),
      // The kernel's ring buffer is the host's.
      "/etc/systemd/journald.conf.d/kind.conf": { content: "[Journal]\nReadKMsg=no\n" },
      // Where kubeadm-era CNI installers (Calico, Cilium) put their plugins: the same directory as Debian's.
      "/opt/cni/bin": { symlink: "/usr/lib/cni" },
      "/etc/cni/net.d": { dir: true },
      "/etc/crictl.yaml": { content: "runtime-endpoint: unix:///run/containerd/containerd.sock\n" },
      "/etc/kubernetes/manifests": { dir: true },
      "/kind/version": { content: KUBERNETES_VERSION },
      "/kind/manifests/default-cni.yaml": { content: DEFAULT_CNI },
      "/kind/manifests/default-storage.yaml": { content: localPathProvisioner(LOCAL_VOLUMES).join("---\n") },
    },
    mustHave: [
      "/usr/lib/systemd/systemd",
      "/usr/bin/containerd",
      "/usr/bin/ctr",
      "/usr/sbin/runc",
      "/usr/lib/cni/bridge",
      "/usr/lib/cni/host-local",
      "/usr/lib/cni/loopback",
      "/usr/lib/cni/portmap",
      "/usr/bin/mount",
      "/usr/bin/findmnt",
      "/usr/bin/systemd-machine-id-setup",
      "/usr/sbin/xtables-nft-multi",
      "/usr/sbin/nft",
      "/usr/sbin/ip",
    ],
    config: {
      Env: [DEFAULT_PATH, "container=docker"],
      Entrypoint: ["/usr/local/bin/entrypoint", "/sbin/init"],
      // systemd's signal to shut down.
      StopSignal: "SIGRTMIN+3",
    },
  },

  /**
   * The one layer of every image the node's containerd holds for kubeadm:
   * kube-apiserver, kube-controller-manager, kube-scheduler and kube-proxy
   * (kubelab's node binary under each name), kubectl, etcd and CoreDNS (cluster/kind-node),
   * pause; nftables and iptables for kube-proxy, bash and ip for the default CNI.
   */
  "kind-kubernetes": {
    name: "kind-kubernetes",
    base: "debian",
    packages: ["base-files", "bash", "coreutils", "iproute2", "nftables", "iptables", "ca-certificates"],
    files: {
      "/usr/local/bin/kubelab-node": { binary: "kubelabNode", mode: 0o755 },
      ...Object.fromEntries(
        ["kube-apiserver", "kube-controller-manager", "kube-scheduler", "kube-proxy"].map((n) => [
          `/usr/local/bin/${n}`,
          { symlink: "kubelab-node" },
        ]),
      ),
      // The default CNI's DaemonSet reads the node's pod CIDR with it; the node binary has no kubectl of its own.
      "/usr/local/bin/kubectl": { binary: "kubectl", mode: 0o755 },
      "/usr/local/bin/etcd": { binary: "etcd", mode: 0o755 },
      "/coredns": { binary: "coredns", mode: 0o755 },
      "/pause": { binary: "pause", mode: 0o755 },
      ...IPTABLES_NFT,
      "/var/lib/etcd": { dir: true, mode: 0o700 },
    },
    mustHave: ["/usr/sbin/nft", "/usr/sbin/xtables-nft-multi", "/usr/sbin/ip", "/usr/bin/bash"],
    config: { Env: [DEFAULT_PATH] },
  },
};
