/**
 * What goes into each offline image. A recipe is data: packages (resolved
 * to a closure by apt), files to write, runtime config and checks. Everything
 * here is part of the layer cache key, so editing a recipe rebuilds its image;
 * code changes to the assembly steps bump BUILDER_VERSION in build.ts.
 */
import { DEFAULT_PATH, type ContainerConfig } from "./manifest.ts";
import { NODE_PACKAGES } from "../host/node-packages.ts";
import { KIND_RECIPES } from "./kind-recipes.ts";
import type { ImageRecipe } from "./recipe.ts";

/**
 * Packages only maintainer scripts need (which never run here), or that
 * would drag in perl: leaving them out keeps the images small.
 */
export const COMMON_EXCLUDES = [
  "debconf",
  "adduser",
  "init-system-helpers",
  "dpkg",
  "ucf",
  "install-info",
  "lsb-base",
  "perl-base",
  "usrmerge",
  "usr-is-merged",
  "sensible-utils",
] as const;

/** Providers to pick for virtual packages (Debian's defaults). */
export const PREFERRED_PROVIDERS = ["mawk", "debconf", "bind9-host", "netcat-openbsd"] as const;

/** Debian's update-alternatives links, set when a target exists: link → candidates. */
export const ALTERNATIVES: Readonly<Record<string, readonly string[]>> = {
  // dash's postinst makes /bin/sh; without dash, bash serves (`kubectl exec … -- sh` must work).
  "/usr/bin/sh": ["dash", "bash"],
  "/usr/bin/awk": ["mawk", "gawk"],
  "/usr/bin/nawk": ["mawk", "gawk"],
  "/usr/bin/vi": ["vim.basic", "vim.tiny"],
  "/usr/bin/vim": ["vim.basic"],
  "/usr/bin/view": ["vim.basic"],
  "/usr/bin/editor": ["vim.basic", "vim.tiny"],
  "/usr/bin/pager": ["less"],
  "/usr/bin/which": ["which.debianutils"],
  "/usr/bin/nc": ["nc.openbsd"],
  "/usr/bin/netcat": ["nc.openbsd"],
};

/** Netstat-like tools the nginx image must not have (as in the tutorial document). */
const NO_NETSTAT = [
  "/usr/bin/netstat",
  "/usr/sbin/netstat",
  "/usr/bin/ss",
  "/usr/sbin/ss",
  "/usr/bin/ifconfig",
  "/usr/sbin/ifconfig",
];

const NGINX_CONF = `# kubelab nginx: foreground-friendly, logs to the container's stdout/stderr
user www-data;
worker_processes auto;
pid /run/nginx.pid;
error_log /var/log/nginx/error.log notice;

events {
    worker_connections 1024;
}

http {
    include /etc/nginx/mime.types;
    default_type application/octet-stream;
    log_format main '$remote_addr - $remote_user [$time_local] "$request" '
                    '$status $body_bytes_sent "$http_referer" '
                    '"$http_user_agent" "$http_x_forwarded_for"';
    access_log /var/log/nginx/access.log main;
    sendfile on;
    keepalive_timeout 65;
    include /etc/nginx/conf.d/*.conf;
}
`;

const NGINX_DEFAULT_SITE = `server {
    listen 80;
    listen [::]:80;
    server_name localhost;

    location / {
        root /usr/share/nginx/html;
        index index.html index.htm;
    }

    error_page 500 502 503 504 /50x.html;
    location = /50x.html {
        root /usr/share/nginx/html;
    }
}
`;

const NGINX_50X = `<!DOCTYPE html>
<html><head><title>Error</title></head>
<body><h1>An error occurred.</h1><p>Sorry, the page you are looking for is currently unavailable.</p></body>
</html>
`;

const TOOLBOX_BASHRC = `# kubelab toolbox: the learner's shell
[ -z "$PS1" ] && return

# Inside tmux keep tmux's TERM; elsewhere the web terminal is an xterm.
[ -z "$TMUX" ] && export TERM=xterm-256color
export EDITOR=vim VISUAL=vim KUBE_EDITOR=vim PAGER=less LESS=-R
export HISTSIZE=10000 HISTFILESIZE=20000 HISTCONTROL=ignoredups
shopt -s histappend checkwinsize

PS1='[\\u@master \\W]\\$ '

alias ls='ls --color=auto'
alias ll='ls -l'
alias grep='grep --color=auto'
alias k=kubectl

if [ -f /usr/share/bash-completion/bash_completion ]; then
  . /usr/share/bash-completion/bash_completion
fi
if [ -f /usr/share/bash-completion/completions/kubectl ]; then
  . /usr/share/bash-completion/completions/kubectl
elif command -v kubectl >/dev/null 2>&1; then
  . <(kubectl completion bash 2>/dev/null)
fi
if type __start_kubectl >/dev/null 2>&1; then
  complete -o default -F __start_kubectl k
fi
`;

const TOOLBOX_PROFILE = `# login shells (tmux starts one) read the same settings as interactive ones
[ -f ~/.bashrc ] && . ~/.bashrc
`;

const TOOLBOX_TMUX = `# kubelab: tmux inside a browser terminal
set -g default-terminal "tmux-256color"
set -g history-limit 50000
set -g mouse off
set -sg escape-time 0
set -g status off
setw -g aggressive-resize on
`;

const TOOLBOX_VIMRC = `" kubelab: YAML-friendly vim for a browser terminal
runtime! defaults.vim
let g:skip_defaults_vim = 1
" mouse off, so the browser's copy and paste keep working
set mouse=
set background=dark
set autoindent expandtab shiftwidth=2 softtabstop=2 tabstop=2
filetype plugin indent on
syntax on
autocmd FileType yaml setlocal expandtab shiftwidth=2 softtabstop=2 tabstop=2 indentkeys-=0# indentkeys-=<:>
`;

/**
 * Debian builds busybox without wget's timeout support (FEATURE_WGET_TIMEOUT,
 * enabled only from 1:1.36.1-5), yet its option parser still accepts `-T`
 * and stores the number through a null pointer: `wget -T 5 …` dies with
 * SIGSEGV (exit 139). This /bin/wget takes the timeout off the command line,
 * passes everything else to busybox's wget and enforces the timeout with
 * busybox's `timeout` (for the whole transfer; busybox's own -T is per read),
 * failing as busybox does: "download timed out", exit 1.
 */
const BUSYBOX_WGET = `#!/bin/sh
t=
n=$#
while [ "$n" -gt 0 ]; do
  a=$1; shift; n=$((n - 1))
  case $a in
    --) set -- "$@" "$a"; while [ "$n" -gt 0 ]; do set -- "$@" "$1"; shift; n=$((n - 1)); done; break ;;
    -T | --timeout) t=$1; shift; n=$((n - 1)); continue ;;
    -T*) t=\${a#-T}; continue ;;
    --timeout=*) t=\${a#--timeout=}; continue ;;
    -[cqS]*T*)
      flags=\${a%%T*}
      case \${flags#-} in
        *[!cqS]*) ;;
        *) rest=\${a#"$flags"T}
           if [ -n "$rest" ]; then t=$rest; else t=$1; shift; n=$((n - 1)); fi
           set -- "$@" "$flags"; continue ;;
      esac ;;
  esac
  set -- "$@" "$a"
done
[ -z "$t" ] && exec busybox wget "$@"
case $t in
  *[!0-9]* | '') echo "wget: invalid number '$t'" >&2; exit 1 ;;
esac
[ "$t" -eq 0 ] && exec busybox wget "$@"
# SIGINT: the one signal (with SIGPIPE) the shell does not report as "Terminated".
busybox timeout -s INT "$t" busybox wget "$@"
rc=$?
[ "$rc" -eq 130 ] && { echo "wget: download timed out" >&2; exit 1; }
exit "$rc"
`;

/**
 * What both busybox images need beside Debian's busybox package (which has no
 * base-files): root and nobody, a home for root, a world-writable /tmp, and
 * the wget that busybox's own cannot be (BUSYBOX_WGET).
 */
const BUSYBOX_FILES: ImageRecipe["files"] = {
  "/etc/passwd": { content: "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/home:/bin/false\n" },
  "/etc/group": { content: "root:x:0:\nnogroup:x:65534:\n" },
  "/bin/wget": { content: BUSYBOX_WGET, mode: 0o755 },
  "/root": { dir: true, mode: 0o700 },
  "/tmp": { dir: true, mode: 0o1777 },
  "/home": { dir: true },
};

/** Where the all-in-one image keeps kubelab: the app (a checkout with its site and modules) and its cache. */
export const ALL_IN_ONE_APP = "/opt/kubelab/app";
export const ALL_IN_ONE_CACHE = "/opt/kubelab/cache";
/** The port the all-in-one image's server listens on. */
export const ALL_IN_ONE_PORT = 4321;

/** Where the server image keeps kubelab: the app (a checkout with its site and modules) and Node.js. */
export const SERVER_APP = "/opt/kubelab/app";
export const SERVER_NODE = "/opt/kubelab/node/bin/node";
/** The server image's user and group: not root, and no id a distribution gives out. */
export const SERVER_UID = 10001;
/** The server image's state directory: the store and what the server keeps, on a volume in a pod. */
export const SERVER_STATE = "/var/lib/kubelab";

export const RECIPES: Readonly<Record<string, ImageRecipe>> = {
  busybox: {
    name: "busybox",
    base: "busybox",
    // Debian's busybox lacks `netstat -p`, and busybox-static's shell runs its own applets
    // before PATH; so: the glibc busybox (with libc, like busybox:glibc) plus net-tools' netstat.
    packages: ["busybox", "net-tools"],
    programs: ["netstat"],
    files: {
      ...BUSYBOX_FILES,
      "/var/www": { dir: true },
    },
    mustHave: [
      "/bin/busybox",
      "/bin/sh",
      "/bin/netstat",
      "/bin/ls",
      "/bin/wget",
      "/bin/nslookup",
      "/lib/x86_64-linux-gnu/libc.so.6",
    ],
    config: { Env: [DEFAULT_PATH], Cmd: ["sh"] },
  },

  /**
   * busybox as the conformance specs' busybox image: the same applets, but bash
   * as /bin/sh. Debian's busybox 1.35 ash drops environment variables whose
   * names are not shell identifiers (upstream's 1.37 passes them on), and the
   * ConfigMap specs look for `data-1=value-1` in the output of `sh -c env`.
   */
  "e2e-busybox": {
    name: "e2e-busybox",
    base: "busybox",
    packages: ["busybox", "bash"],
    programs: ["bash"],
    files: {
      "/bin/sh": { symlink: "bash" },
      ...BUSYBOX_FILES,
    },
    mustHave: ["/bin/busybox", "/bin/bash", "/bin/sh", "/bin/ls", "/bin/wget", "/bin/nslookup"],
    config: { Env: [DEFAULT_PATH], Cmd: ["sh"] },
  },

  nginx: {
    name: "nginx",
    base: "debian",
    packages: ["base-files", "bash", "coreutils", "grep", "sed", "findutils", "nginx"],
    // nginx depends on iproute2 (only for its init script); it would bring `ss`.
    exclude: ["iproute2"],
    files: {
      "/etc/nginx/nginx.conf": { content: NGINX_CONF },
      "/etc/nginx/conf.d/default.conf": { content: NGINX_DEFAULT_SITE },
      "/usr/share/nginx/html/50x.html": { content: NGINX_50X },
      "/var/log/nginx/access.log": { symlink: "/dev/stdout" },
      "/var/log/nginx/error.log": { symlink: "/dev/stderr" },
      "/var/lib/nginx": { dir: true },
      "/var/cache/nginx": { dir: true },
      "/var/www/html": { dir: true },
    },
    mustHave: [
      "/usr/sbin/nginx",
      "/usr/bin/bash",
      "/bin/sh",
      "/usr/bin/ls",
      "/etc/nginx/mime.types",
      "/usr/share/nginx/html/index.html",
    ],
    mustNotHave: NO_NETSTAT,
    config: {
      Env: [DEFAULT_PATH],
      Cmd: ["nginx", "-g", "daemon off;"],
      ExposedPorts: { "80/tcp": {} },
      StopSignal: "SIGQUIT",
    },
  },

  "debug-tools": {
    name: "debug-tools",
    base: "debian",
    packages: [
      "base-files",
      "bash",
      "coreutils",
      "grep",
      "sed",
      "findutils",
      "net-tools",
      "iproute2",
      "procps",
      "curl",
      "tcpdump",
      "bind9-dnsutils",
      "iputils-ping",
      "netcat-openbsd",
      "ca-certificates",
      "libc-bin",
    ],
    // tcpdump drops privileges to this user after opening the capture.
    passwd: ["tcpdump:x:100:101::/nonexistent:/usr/sbin/nologin"],
    group: ["tcpdump:x:101:"],
    mustHave: [
      "/usr/bin/netstat",
      "/usr/bin/ip",
      "/usr/bin/ss",
      "/usr/bin/ps",
      "/usr/bin/curl",
      "/usr/bin/tcpdump",
      "/usr/bin/dig",
      "/usr/bin/nslookup",
      "/usr/bin/ping",
      "/usr/bin/nc",
      "/etc/ssl/certs/ca-certificates.crt",
    ],
    config: { Env: [DEFAULT_PATH], Cmd: ["bash"] },
  },

  /**
   * The upstream e2e specs' test image (k8s.io/kubernetes/test/images/agnhost):
   * its one Go program as the entrypoint, with the shell tools specs run in it
   * (dig, nslookup, curl, nc, ip), the image-defined user and group some check,
   * and the upstream self-signed 127.0.0.1 certificate its TLS servers load.
   */
  agnhost: {
    name: "agnhost",
    base: "debian",
    packages: [
      "base-files",
      "bash",
      "coreutils",
      "grep",
      "sed",
      "findutils",
      "procps",
      "iproute2",
      "curl",
      "bind9-dnsutils",
      "netcat-openbsd",
      "ca-certificates",
      "libc-bin",
    ],
    passwd: ["user-defined-in-image:x:1000:1000::/home/user-defined-in-image:/bin/sh"],
    group: ["user-defined-in-image:x:1000:", "group-defined-in-image:x:50000:user-defined-in-image"],
    files: {
      "/agnhost": { binary: "agnhost", mode: 0o755 },
      "/agnhost-2": { symlink: "agnhost" },
      "/localhost.crt": { binary: "agnhostCert", mode: 0o644 },
      "/localhost.key": { binary: "agnhostKey", mode: 0o644 },
      "/uploads": { dir: true },
    },
    mustHave: [
      "/agnhost",
      "/bin/sh",
      "/usr/bin/dig",
      "/usr/bin/nslookup",
      "/usr/bin/curl",
      "/usr/bin/nc",
      "/usr/bin/ip",
    ],
    config: {
      Env: [DEFAULT_PATH],
      Entrypoint: ["/agnhost"],
      Cmd: ["pause"],
      ExposedPorts: { "80/tcp": {}, "8080/tcp": {}, "8081/tcp": {}, "9376/tcp": {}, "5000/tcp": {} },
    },
  },

  /**
   * The default StorageClass's provisioner (rancher's local-path, as kind and
   * k3s ship it): its one static Go program, built from its module
   * (src/cluster/local/binaries.ts). The directories it hands out are made
   * by helper pods of the catalog's busybox, so nothing else is needed here.
   */
  "local-path-provisioner": {
    name: "local-path-provisioner",
    base: "scratch",
    packages: [],
    files: { "/usr/bin/local-path-provisioner": { binary: "localPathProvisioner", mode: 0o755 } },
    mustHave: ["/usr/bin/local-path-provisioner"],
    config: { Env: [DEFAULT_PATH], Entrypoint: ["/usr/bin/local-path-provisioner"] },
  },

  pause: {
    name: "pause",
    base: "scratch",
    packages: [],
    files: { "/pause": { binary: "pause", mode: 0o755 } },
    mustHave: ["/pause"],
    config: { Entrypoint: ["/pause"] },
  },

  toolbox: {
    name: "toolbox",
    base: "debian",
    packages: [
      "base-files",
      "bash",
      "coreutils",
      "grep",
      "sed",
      "findutils",
      "diffutils",
      "vim",
      "less",
      "bash-completion",
      "tmux",
      "procps",
      "ncurses-base",
      "ncurses-bin",
      "ca-certificates",
      // libc-bin: the C.UTF-8 locale tmux needs, and getent.
      "libc-bin",
      // tini: PID 1 that reaps orphans (tmux's server, the learner's background jobs).
      "tini",
    ],
    files: {
      "/usr/local/bin/kubectl": { binary: "kubectl", mode: 0o755 },
      "/usr/local/bin/kubelab-terminal-agent": { binary: "terminalAgent", mode: 0o755 },
      "/usr/share/bash-completion/completions/kubectl": { output: { binary: "kubectl", args: ["completion", "bash"] } },
      "/root/.bashrc": { content: TOOLBOX_BASHRC },
      "/root/.profile": { content: TOOLBOX_PROFILE },
      "/root/.tmux.conf": { content: TOOLBOX_TMUX },
      "/etc/vim/vimrc.local": { content: TOOLBOX_VIMRC },
      "/root/pod": { dir: true },
    },
    mustHave: [
      "/usr/bin/bash",
      "/usr/bin/vim",
      "/usr/bin/less",
      "/usr/bin/tmux",
      "/usr/bin/ps",
      "/usr/bin/sleep",
      "/usr/local/bin/kubectl",
      "/usr/local/bin/kubelab-terminal-agent",
      "/usr/lib/terminfo/x/xterm-256color",
      "/usr/lib/locale/C.utf8",
      "/bin/sh",
      "/etc/ssl/certs/ca-certificates.crt",
      "/usr/bin/tini",
    ],
    mustNotHave: ["/bin/busybox"],
    config: {
      Env: [DEFAULT_PATH, "TERM=xterm-256color", "EDITOR=vim", "KUBE_EDITOR=vim", "LANG=C.UTF-8"],
      // The pod sets only `args`, so tini stays PID 1 under whatever the lab runs.
      Entrypoint: ["/usr/bin/tini", "--"],
      Cmd: ["sleep", "infinity"],
      WorkingDir: "/root/pod",
    },
  },

  /**
   * The base layer of the all-in-one image (src/images/all-in-one.ts adds the
   * node binaries, Node.js, the filled registry and the app above it): what the
   * local provider's preflight asks of a host, the marker kubelab detects the
   * image by, and tini as PID 1 to reap what the node's processes leave.
   */
  "all-in-one": {
    name: "all-in-one",
    base: "debian",
    packages: [
      "base-files",
      "bash",
      "coreutils",
      "diffutils",
      "grep",
      "sed",
      "findutils",
      "procps",
      "mount",
      "util-linux",
      "kmod",
      "ca-certificates",
      "libc-bin",
      "tini",
      // Node.js's one library beyond libc.
      "libstdc++6",
      // What the node needs on a host, and iptables for what still looks for it.
      ...NODE_PACKAGES,
      "iptables",
    ],
    files: {
      "/etc/kubelab/all-in-one": { content: "kubelab all-in-one image: the node and the server in one container\n" },
      "/var/lib/kubelab": { dir: true, mode: 0o700 },
    },
    mustHave: [
      "/usr/bin/containerd",
      "/usr/bin/containerd-shim-runc-v2",
      "/usr/sbin/runc",
      "/usr/lib/cni/bridge",
      "/usr/lib/cni/host-local",
      "/usr/lib/cni/loopback",
      "/usr/bin/docker-registry",
      "/usr/sbin/nft",
      "/usr/bin/ip",
      "/usr/bin/mount",
      "/usr/bin/tini",
      "/usr/bin/cmp",
      "/usr/lib/x86_64-linux-gnu/libstdc++.so.6",
    ],
    config: {
      Env: [
        DEFAULT_PATH,
        `KUBELAB_CACHE=${ALL_IN_ONE_CACHE}`,
        "KUBELAB_STATE=/var/lib/kubelab",
        // Reached through the published port: listen on every address of the container, and
        // take the host's loopback names on whatever host port maps to it (`-p 8080:4321`).
        "KUBELAB_HOST=0.0.0.0",
        "KUBELAB_ALLOWED_HOSTS=localhost,127.0.0.1",
      ],
      Entrypoint: ["/usr/bin/tini", "--", `${ALL_IN_ONE_APP}/kubelab`],
      Cmd: ["start"],
      WorkingDir: ALL_IN_ONE_APP,
      ExposedPorts: { [`${ALL_IN_ONE_PORT}/tcp`]: {} },
      // containerd's overlayfs cannot sit on the container's own overlay root: the state must be a volume.
      Volumes: { "/var/lib/kubelab": {} },
      StopSignal: "SIGTERM",
    },
  },

  /**
   * The base layer of the server image (src/images/server-image.ts adds
   * Node.js, the app and its state directory): the lab server alone, for a
   * pod in any cluster. No node, no container runtime, no package manager:
   * terminals go through the toolbox's agent or the API's exec. bash and
   * kubectl run the exams' setup scripts (src/exams/prepare.ts).
   */
  server: {
    name: "server",
    base: "debian",
    packages: [
      "base-files",
      "bash",
      "ca-certificates",
      "tini",
      // Node.js's one library beyond libc.
      "libstdc++6",
    ],
    passwd: [`kubelab:x:${SERVER_UID}:${SERVER_UID}:kubelab:${SERVER_STATE}:/usr/sbin/nologin`],
    group: [`kubelab:x:${SERVER_UID}:`],
    files: {
      "/usr/bin/kubectl": { binary: "kubectl", mode: 0o755 },
      "/tmp": { dir: true, mode: 0o1777 },
    },
    mustHave: ["/usr/bin/tini", "/usr/bin/bash", "/usr/bin/kubectl", "/etc/ssl/certs/ca-certificates.crt"],
    mustNotHave: ["/usr/bin/apt-get", "/usr/bin/dpkg", "/usr/bin/containerd"],
    config: {
      Env: [
        `PATH=${SERVER_NODE.slice(0, -"/node".length)}:/usr/local/bin:/usr/bin:/bin`,
        `HOME=${SERVER_STATE}`,
        `KUBELAB_STATE_DIR=${SERVER_STATE}`,
        // A pod's server: the in-cluster provider in namespace mode (the only mode it runs), on every address.
        "KUBELAB_PROVIDER=incluster",
        "KUBELAB_MODE=namespace",
        "KUBELAB_HOST=0.0.0.0",
        `KUBELAB_PORT=${ALL_IN_ONE_PORT}`,
      ],
      // Node.js straight, without the launcher's checks (the image holds what they would install).
      Entrypoint: [
        "/usr/bin/tini",
        "--",
        SERVER_NODE,
        "--disable-warning=ExperimentalWarning",
        `${SERVER_APP}/src/cli/main.ts`,
      ],
      Cmd: ["start"],
      User: `${SERVER_UID}:${SERVER_UID}`,
      WorkingDir: SERVER_APP,
      ExposedPorts: { [`${ALL_IN_ONE_PORT}/tcp`]: {} },
      StopSignal: "SIGTERM",
    },
  },

  ...KIND_RECIPES,
};
