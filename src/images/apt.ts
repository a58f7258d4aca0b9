/**
 * Debian package plumbing for the image builder: resolve a package closure
 * from `apt-cache depends`, look up candidate versions with `apt-cache show`,
 * and download .debs with `apt-get download`. Parsing and resolution are pure
 * functions so they can be unit tested without apt.
 */
import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdir, readdir, readFile, rename, rm, stat } from "node:fs/promises";
import { join } from "node:path";
import { ImageBuildError, run } from "./exec.ts";

/** One alternative of a dependency: a real package, or a virtual one with its providers. */
export interface DepAlternative {
  name: string;
  /** Set when apt printed the name as `<virtual>`; lists the packages providing it. */
  providers?: string[];
}

/** A dependency line group: any one alternative satisfies it (`a | b | c`). */
export type DepGroup = DepAlternative[];

/** Package name → its dependency groups (Depends and Pre-Depends only). */
export type DepGraph = Map<string, DepGroup[]>;

/** What to leave out or prefer while resolving a closure. */
export interface ClosurePolicy {
  /**
   * Dependencies deliberately left unsatisfied (e.g. debconf, only used by
   * maintainer scripts, which never run here). A group naming an excluded
   * package anywhere is dropped entirely, so apt does not fall back to an
   * alternative (cdebconf for debconf).
   */
  exclude?: readonly string[];
  /** Providers to choose for virtual packages, in order (e.g. mawk for awk). */
  prefer?: readonly string[];
}

export interface Closure {
  /** Selected packages, sorted. */
  packages: string[];
  /** Dependencies dropped by the policy, as "pkg -> dep", for progress output. */
  dropped: string[];
}

/** apt-cache flags that keep only hard dependencies. */
export const DEPENDS_FLAGS = [
  "--recurse",
  "--no-recommends",
  "--no-suggests",
  "--no-conflicts",
  "--no-breaks",
  "--no-replaces",
  "--no-enhances",
] as const;

/** Drop an architecture qualifier: "perl:any" → "perl". */
function bareName(name: string): string {
  const i = name.indexOf(":");
  return i < 0 ? name : name.slice(0, i);
}

/**
 * Parse `apt-cache depends --recurse …` output. Package lines start in
 * column 0; dependency lines are "  Depends: x" or " |Depends: x" (the bar
 * joins it with the next line into one group); virtual names are written
 * `<x>` and followed by their providers indented by four spaces.
 * Top-level `<virtual>` lines are skipped: they have no dependencies.
 */
export function parseAptDepends(text: string): DepGraph {
  const graph: DepGraph = new Map();
  let groups: DepGroup[] | null = null;
  let open: DepGroup | null = null; // group still taking alternatives after a "|"
  let last: DepAlternative | null = null;
  for (const line of text.split("\n")) {
    if (!line.trim()) continue;
    if (!line.startsWith(" ")) {
      const name = line.trim();
      open = null;
      last = null;
      if (name.startsWith("<")) {
        groups = null;
        continue;
      }
      groups = graph.get(name) ?? [];
      graph.set(name, groups);
      continue;
    }
    if (!groups) continue;
    const dep = /^ ([ |])(?:Pre)?Depends: (\S+)/.exec(line);
    if (dep) {
      const raw = dep[2];
      const alt: DepAlternative = raw.startsWith("<") ? { name: raw.slice(1, -1), providers: [] } : { name: raw };
      if (open) open.push(alt);
      else {
        open = [alt];
        groups.push(open);
      }
      if (dep[1] !== "|") open = null;
      last = alt;
      continue;
    }
    // Provider of the preceding virtual name (other relation kinds are filtered by flags).
    const provider = /^ {4}(\S+)$/.exec(line);
    if (provider && last?.providers) last.providers.push(provider[1]);
  }
  return graph;
}

/**
 * Choose one package per dependency group, breadth first from `roots`.
 * A group already satisfied by a chosen package is skipped; otherwise the
 * first preferred provider, then the first real alternative, is taken.
 */
export function resolveClosure(graph: DepGraph, roots: readonly string[], policy: ClosurePolicy = {}): Closure {
  const exclude = new Set(policy.exclude ?? []);
  const prefer = policy.prefer ?? [];
  const chosen = new Set<string>();
  const dropped: string[] = [];
  const queue: string[] = [];
  const take = (name: string) => {
    if (!chosen.has(name)) {
      chosen.add(name);
      queue.push(name);
    }
  };
  for (const root of roots) {
    if (!graph.has(root)) {
      throw new ImageBuildError(`package ${root} is not known to apt`, "run apt-get update, or check the package name");
    }
    take(root);
  }
  while (queue.length) {
    const pkg = queue.shift()!;
    for (const group of graph.get(pkg) ?? []) {
      const candidates = groupCandidates(graph, group);
      if (candidates.some((c) => chosen.has(c))) continue;
      const excluded = group
        .map((a) => a.name)
        .concat(candidates)
        .find((c) => exclude.has(bareName(c)));
      if (excluded) {
        dropped.push(`${pkg} -> ${excluded}`);
        continue;
      }
      const pick = prefer.find((p) => candidates.includes(p)) ?? candidates[0];
      if (pick) take(pick);
      else dropped.push(`${pkg} -> ${group.map((a) => a.name).join(" | ")} (unavailable)`);
    }
  }
  return { packages: [...chosen].sort(), dropped: [...new Set(dropped)].sort() };
}

/** Real packages (present in the graph) that could satisfy a group, in apt's order. */
function groupCandidates(graph: DepGraph, group: DepGroup): string[] {
  const out: string[] = [];
  for (const alt of group) {
    const names = alt.providers ? [...alt.providers, bareName(alt.name)] : [bareName(alt.name)];
    for (const n of names) if (graph.has(n) && !out.includes(n)) out.push(n);
  }
  return out;
}

/** A package version as apt would install it. */
export interface PackageVersion {
  name: string;
  version: string;
  architecture: string;
  /** SHA256 of the .deb from the archive index. */
  sha256: string;
  size: number;
}

/** Parse `apt-cache show --no-all-versions` stanzas. */
export function parseAptShow(text: string): PackageVersion[] {
  const out: PackageVersion[] = [];
  for (const stanza of text.split(/\n\s*\n/)) {
    const field = (k: string) => new RegExp(`^${k}: *(.*)$`, "m").exec(stanza)?.[1]?.trim();
    const name = field("Package");
    const version = field("Version");
    if (!name || !version) continue;
    out.push({
      name,
      version,
      architecture: field("Architecture") ?? "",
      sha256: field("SHA256") ?? "",
      size: Number(field("Size") ?? 0),
    });
  }
  return out;
}

/** File name `apt-get download` gives a package (the epoch colon is escaped). */
export function debFileName(p: PackageVersion): string {
  return `${p.name}_${p.version.replace(/:/g, "%3a")}_${p.architecture}.deb`;
}

const APT_HINT = "run apt-get update (the package lists may be missing or stale)";

/** Resolve a closure against the machine's apt cache. */
export async function aptClosure(roots: readonly string[], policy: ClosurePolicy): Promise<Closure> {
  const { stdout } = await run("apt-cache", ["depends", ...DEPENDS_FLAGS, ...roots], { hint: APT_HINT });
  return resolveClosure(parseAptDepends(stdout), roots, policy);
}

/** Candidate versions of the given packages, in the same order. */
export async function aptVersions(packages: readonly string[]): Promise<PackageVersion[]> {
  const { stdout } = await run("apt-cache", ["show", "--no-all-versions", ...packages], { hint: APT_HINT });
  const byName = new Map(parseAptShow(stdout).map((p) => [p.name, p]));
  return packages.map((name) => {
    const p = byName.get(name);
    if (!p) throw new ImageBuildError(`apt-cache show printed no candidate for ${name}`, APT_HINT);
    return p;
  });
}

/**
 * Fingerprint of the apt package lists (names, sizes, mtimes): resolved
 * closures stay valid while it is unchanged.
 */
export async function aptListsFingerprint(): Promise<string> {
  const { stdout } = await run("apt-config", ["shell", "LISTS", "Dir::State::lists/d"]);
  const dir = /LISTS='([^']*)'/.exec(stdout)?.[1] ?? "";
  const h = createHash("sha256").update(dir);
  if (dir && existsSync(dir)) {
    for (const f of (await readdir(dir)).sort()) {
      if (f === "lock" || f === "partial" || f === "auxfiles") continue;
      const s = await stat(join(dir, f));
      h.update(`${f}\0${s.size}\0${s.mtimeMs}\n`);
    }
  }
  return h.digest("hex");
}

/**
 * Make sure every package's .deb is in `debDir`, downloading the missing ones
 * in one `apt-get download` and checking their SHA256 against the index.
 * Returns the .deb paths in the same order.
 */
export async function ensureDebs(debDir: string, packages: readonly PackageVersion[]): Promise<string[]> {
  await mkdir(debDir, { recursive: true });
  const missing = packages.filter((p) => !existsSync(join(debDir, debFileName(p))));
  if (missing.length) {
    // Download into a scratch dir so a failed run leaves no half-written .deb behind.
    const tmp = join(debDir, `.download-${process.pid}`);
    await rm(tmp, { recursive: true, force: true });
    await mkdir(tmp);
    try {
      // Sandbox user root: the cache dir usually is not readable by _apt.
      await run(
        "apt-get",
        ["download", "-q", "-o", "APT::Sandbox::User=root", ...missing.map((p) => `${p.name}=${p.version}`)],
        {
          cwd: tmp,
          hint: `${APT_HINT}; check that the Debian mirror in /etc/apt/sources.list* is reachable`,
        },
      );
      for (const p of missing) {
        const file = debFileName(p);
        const got = join(tmp, file);
        if (!existsSync(got))
          throw new ImageBuildError(`apt-get download ${p.name}=${p.version} did not produce ${file}`, APT_HINT);
        if (p.sha256) {
          const sum = createHash("sha256")
            .update(await readFile(got))
            .digest("hex");
          if (sum !== p.sha256)
            throw new ImageBuildError(`checksum mismatch for ${file}: got ${sum}, index says ${p.sha256}`, APT_HINT);
        }
        await rename(got, join(debDir, file));
      }
    } finally {
      await rm(tmp, { recursive: true, force: true });
    }
  }
  return packages.map((p) => join(debDir, debFileName(p)));
}
