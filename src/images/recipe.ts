/**
 * What an image recipe is (the recipes themselves: recipes.ts, kind-recipes.ts):
 * the binaries a caller supplies, the files a root filesystem gets, how it
 * starts, and the recipe that names them.
 */
import type { ContainerConfig } from "./manifest.ts";

/**
 * Files the caller supplies: static binaries (the toolbox's terminal agent
 * among them), and for the conformance images agnhost and the test
 * certificate its TLS servers use (agnhostCert/agnhostKey).
 */
export type BinaryName =
  | "kubectl"
  | "pause"
  | "terminalAgent"
  | "localPathProvisioner"
  | "agnhost"
  | "agnhostCert"
  | "agnhostKey"
  // The kind node image's (src/images/kind-recipes.ts): the node binary, and cluster/kind-node's programs.
  | "kubelabNode"
  | "runcWrapper"
  | "kubeadm"
  | "etcd"
  | "coredns";

/** Paths of the supplied binaries; a recipe's build fails when one it uses is missing. */
export type SuppliedBinaries = { readonly [name in BinaryName]?: string };

/** A file to put into the root filesystem (paths are absolute inside the image). */
export type FileEntry =
  | { content: string; mode?: number }
  | { symlink: string }
  | { dir: true; mode?: number }
  | { binary: BinaryName; mode?: number }
  /** Output of running a supplied binary at build time; skipped if it fails. */
  | { output: { binary: BinaryName; args: string[] }; mode?: number };

/**
 * How the root filesystem starts:
 * - debian: merged-/usr Debian root with the closure extracted and the work
 *   of maintainer scripts done by code (users, alternatives, ld.so.cache, CA bundle);
 * - busybox: /bin/busybox from the packages (with its shared libraries) plus
 *   one link per applet in /bin;
 * - scratch: only `files`.
 */
export type RootfsBase = "debian" | "busybox" | "scratch";

export interface ImageRecipe {
  /** Short name for progress lines and cache files. */
  name: string;
  base: RootfsBase;
  /** Root packages; their hard-dependency closure is installed. */
  packages: readonly string[];
  /** Dependencies deliberately left out (in addition to COMMON_EXCLUDES). */
  exclude?: readonly string[];
  /**
   * busybox base only: programs from the packages that replace applets
   * (placed in /bin with their shared libraries), e.g. net-tools' netstat,
   * because Debian builds busybox without `netstat -p`.
   */
  programs?: readonly string[];
  /** Extra /etc/passwd and /etc/group lines. */
  passwd?: readonly string[];
  group?: readonly string[];
  files?: Readonly<Record<string, FileEntry>>;
  /** Paths that must exist / must not exist in the finished root (build fails otherwise). */
  mustHave?: readonly string[];
  mustNotHave?: readonly string[];
  config: ContainerConfig;
}
