/**
 * Assemble an image's root filesystem from .debs and a recipe. No
 * maintainer scripts run, so the few things they would do (users, the
 * update-alternatives links, ld.so.cache, the CA bundle, root's dotfiles) are
 * done here; documentation and translations are dropped, as in slim images.
 */
import { existsSync } from "node:fs";
import { chmod, copyFile, lstat, mkdir, readdir, readFile, readlink, rm, symlink, writeFile } from "node:fs/promises";
import { dirname, join, posix } from "node:path";
import { elfDependencies } from "./elf.ts";
import { ImageBuildError, run } from "./exec.ts";
import { ALTERNATIVES } from "./recipes.ts";
import type { FileEntry, ImageRecipe, SuppliedBinaries } from "./recipe.ts";

export interface AssembleOptions {
  recipe: ImageRecipe;
  /** .deb files of the resolved closure. */
  debs: readonly string[];
  /** Target directory; replaced if it exists. */
  dir: string;
  /** Every binary the recipe uses is present (checked by the builder first). */
  binaries: SuppliedBinaries;
  onProgress?: (line: string) => void;
}

const BASE_PASSWD = [
  "root:x:0:0:root:/root:/bin/bash",
  "daemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin",
  "bin:x:2:2:bin:/bin:/usr/sbin/nologin",
  "sys:x:3:3:sys:/dev:/usr/sbin/nologin",
  "www-data:x:33:33:www-data:/var/www:/usr/sbin/nologin",
  "nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin",
];
const BASE_GROUP = [
  "root:x:0:",
  "daemon:x:1:",
  "bin:x:2:",
  "sys:x:3:",
  "adm:x:4:",
  "tty:x:5:",
  "disk:x:6:",
  "www-data:x:33:",
  "staff:x:50:",
  "users:x:100:",
  "nogroup:x:65534:",
];
const NSSWITCH =
  "passwd: files\ngroup: files\nshadow: files\nhosts: files dns\nnetworks: files\nprotocols: files\nservices: files\n";

/** Directories dropped from Debian roots: not needed at runtime. */
const TRIM = [
  "usr/share/man",
  "usr/share/info",
  "usr/share/locale",
  "usr/share/lintian",
  "usr/share/linda",
  "usr/share/bug",
];

/**
 * Resolve `path` inside `root` as if root were "/": symlinks (absolute ones
 * too) never lead outside root. Returns the host path, existing or not.
 */
export async function resolveInRoot(root: string, path: string): Promise<string> {
  const todo = path.split("/").filter(Boolean);
  const done: string[] = [];
  let hops = 0;
  while (todo.length) {
    const part = todo.shift()!;
    if (part === ".") continue;
    if (part === "..") {
      done.pop();
      continue;
    }
    const host = join(root, ...done, part);
    let target: string | undefined;
    try {
      if ((await lstat(host)).isSymbolicLink()) target = await readlink(host);
    } catch {
      // missing: the rest is taken literally
    }
    if (target === undefined) {
      done.push(part);
      continue;
    }
    if (++hops > 40) throw new ImageBuildError(`too many symlinks resolving ${path} in ${root}`);
    if (target.startsWith("/")) done.length = 0;
    todo.unshift(...target.split("/").filter(Boolean));
  }
  return join(root, ...done);
}

/** True when `path` (following symlinks inside root) exists. */
async function existsInRoot(root: string, path: string): Promise<boolean> {
  return existsSync(await resolveInRoot(root, path));
}

/** Extract .debs in order into dir, one shell for all of them. */
async function extractDebs(debs: readonly string[], dir: string): Promise<void> {
  if (!debs.length) return;
  const script =
    'd="$1"; shift; for f in "$@"; do dpkg-deb --fsys-tarfile "$f" | tar -x --keep-directory-symlink -C "$d" || { echo "extracting $f failed" >&2; exit 1; }; done';
  await run("bash", ["-o", "pipefail", "-c", script, "extract", dir, ...debs], {
    hint: "is dpkg-deb installed, and is the cached .deb intact? (delete it from the cache to download it again)",
  });
}

async function writeEntry(root: string, path: string, entry: FileEntry, o: AssembleOptions): Promise<void> {
  const host = join(await resolveInRoot(root, dirname(path)), posix.basename(path));
  await mkdir(dirname(host), { recursive: true });
  if ("dir" in entry) {
    await mkdir(host, { recursive: true });
    await chmod(host, entry.mode ?? 0o755);
    return;
  }
  await rm(host, { recursive: true, force: true });
  if ("symlink" in entry) return symlink(entry.symlink, host);
  if ("content" in entry) await writeFile(host, entry.content);
  else if ("binary" in entry) await copyFile(o.binaries[entry.binary]!, host);
  else {
    const { binary, args } = entry.output;
    try {
      const { stdout } = await run(o.binaries[binary]!, args, { timeoutMs: 10_000 });
      await writeFile(host, stdout);
    } catch (e) {
      o.onProgress?.(`${o.recipe.name}: skipping ${path}: ${(e as Error).message.split("\n")[0]}`);
      return;
    }
  }
  await chmod(host, entry.mode ?? 0o644);
}

/** Keep only copyright files under usr/share/doc. */
async function trimDocs(root: string): Promise<void> {
  for (const t of TRIM) await rm(join(root, t), { recursive: true, force: true });
  const doc = join(root, "usr/share/doc");
  if (!existsSync(doc)) return;
  for (const pkg of await readdir(doc)) {
    const p = join(doc, pkg);
    if (!(await lstat(p)).isDirectory()) continue;
    for (const f of await readdir(p)) if (f !== "copyright") await rm(join(p, f), { recursive: true, force: true });
  }
}

/** What update-ca-certificates would write: the PEM bundle of all shipped certificates. */
async function caBundle(root: string): Promise<void> {
  const src = join(root, "usr/share/ca-certificates");
  if (!existsSync(src)) return;
  const files = (await readdir(src, { recursive: true })).filter((f) => f.endsWith(".crt")).sort();
  const pems = await Promise.all(files.map((f) => readFile(join(src, f), "utf8")));
  await mkdir(join(root, "etc/ssl/certs"), { recursive: true });
  await writeFile(
    join(root, "etc/ssl/certs/ca-certificates.crt"),
    pems.map((p) => (p.endsWith("\n") ? p : `${p}\n`)).join(""),
  );
}

async function debianRoot(o: AssembleOptions): Promise<void> {
  const root = o.dir;
  // Merged /usr, as Debian 12 installs it; tar keeps these links (--keep-directory-symlink).
  for (const d of ["bin", "sbin", "lib", "lib64"]) {
    await mkdir(join(root, "usr", d), { recursive: true });
    await symlink(`usr/${d}`, join(root, d));
  }
  await extractDebs(o.debs, root);
  await trimDocs(root);
  const r = o.recipe;
  await writeFile(join(root, "etc/passwd"), [...BASE_PASSWD, ...(r.passwd ?? [])].join("\n") + "\n");
  await writeFile(join(root, "etc/group"), [...BASE_GROUP, ...(r.group ?? [])].join("\n") + "\n");
  if (!existsSync(join(root, "etc/nsswitch.conf"))) await writeFile(join(root, "etc/nsswitch.conf"), NSSWITCH);
  // base-files' postinst copies these into place.
  const share = join(root, "usr/share/base-files");
  for (const [from, to] of [
    ["profile", "etc/profile"],
    ["dot.bashrc", "root/.bashrc"],
    ["dot.profile", "root/.profile"],
  ]) {
    if (existsSync(join(share, from))) {
      await mkdir(dirname(join(root, to)), { recursive: true });
      await copyFile(join(share, from), join(root, to));
    }
  }
  for (const [link, targets] of Object.entries(ALTERNATIVES)) {
    const target = targets.find((t) => existsSync(join(root, dirname(link), t)));
    if (target && !existsSync(join(root, link))) await symlink(target, join(root, link));
  }
  await caBundle(root);
  for (const [d, mode] of [
    ["tmp", 0o1777],
    ["var/tmp", 0o1777],
    ["root", 0o700],
    ["run", 0o755],
    ["run/lock", 0o1777],
    ["var/log", 0o755],
    ["home", 0o755],
    ["proc", 0o555],
    ["sys", 0o555],
    ["dev", 0o755],
    ["usr/local/bin", 0o755],
  ] as const) {
    await mkdir(join(root, d), { recursive: true });
    await chmod(join(root, d), mode);
  }
  if (!existsSync(join(root, "etc/ld.so.conf")))
    await writeFile(join(root, "etc/ld.so.conf"), "include /etc/ld.so.conf.d/*.conf\n");
  // libc-bin's trigger would run ldconfig; without a cache ld.so still finds the multiarch dirs.
  await run("ldconfig", ["-r", root], { env: { PATH: `${process.env.PATH ?? ""}:/usr/sbin:/sbin` } }).catch(
    (e: Error) => o.onProgress?.(`${r.name}: ldconfig skipped (${e.message.split("\n")[0]})`),
  );
}

const LIB_DIRS = ["lib/x86_64-linux-gnu", "usr/lib/x86_64-linux-gnu", "lib", "usr/lib"];

/**
 * Copy program `name` from the unpacked packages into <root>/bin, with its
 * interpreter and shared libraries (transitively) at their usual paths, so a
 * glibc program runs in a root that has no libc of its own.
 */
async function copyProgram(unpack: string, name: string, root: string): Promise<void> {
  const candidates = ["bin", "usr/bin", "sbin", "usr/sbin"].map((d) => `/${d}/${name}`);
  let from: string | undefined;
  for (const c of candidates) {
    const p = await resolveInRoot(unpack, c);
    if (existsSync(p)) from = p;
    if (from) break;
  }
  if (!from)
    throw new ImageBuildError(`program ${name} is not in the packages`, "add the package that ships it to the recipe");
  await rm(join(root, "bin", name), { force: true });
  await copyFile(from, join(root, "bin", name));
  await chmod(join(root, "bin", name), 0o755);
  const seen = new Set<string>();
  const queue = [from];
  while (queue.length) {
    const deps = elfDependencies(await readFile(queue.shift()!));
    const wanted: [string, string][] = []; // [path in image, host path]
    if (deps.interpreter) {
      // As in Debian: the interpreter path is a link to the file in the multiarch dir.
      const link = join(root, deps.interpreter);
      const target = `/lib/x86_64-linux-gnu/${posix.basename(deps.interpreter)}`;
      if (!existsSync(link) && link !== join(root, target)) {
        await mkdir(dirname(link), { recursive: true });
        await symlink(target, link);
      }
      if (!seen.has(posix.basename(target))) wanted.push([target, await resolveInRoot(unpack, deps.interpreter)]);
    }
    for (const so of deps.needed) {
      if (seen.has(so)) continue;
      let found: string | undefined;
      for (const d of LIB_DIRS) {
        const p = await resolveInRoot(unpack, `/${d}/${so}`);
        if (existsSync(p)) {
          found = p;
          wanted.push([`/lib/x86_64-linux-gnu/${so}`, p]);
          break;
        }
      }
      if (!found)
        throw new ImageBuildError(
          `${name} needs ${so}, which no package of the closure ships`,
          "add the library's package to the recipe",
        );
    }
    for (const [path, host] of wanted) {
      seen.add(posix.basename(path));
      const dest = join(root, path);
      if (existsSync(dest)) continue;
      await mkdir(dirname(dest), { recursive: true });
      await copyFile(host, dest);
      await chmod(dest, 0o755);
      queue.push(host);
    }
  }
}

async function busyboxRoot(o: AssembleOptions): Promise<void> {
  const unpack = `${o.dir}.pkgs`;
  await rm(unpack, { recursive: true, force: true });
  await mkdir(unpack, { recursive: true });
  try {
    await extractDebs(o.debs, unpack);
    await mkdir(join(o.dir, "bin"), { recursive: true });
    await copyProgram(unpack, "busybox", o.dir);
    const { stdout } = await run(join(o.dir, "bin/busybox"), ["--list"], {
      hint: "the busybox binary from the packages does not run on this machine",
    });
    const programs = new Set(o.recipe.programs ?? []);
    for (const applet of stdout.split("\n").map((s) => s.trim())) {
      if (applet && applet !== "busybox" && !applet.includes("/") && !programs.has(applet)) {
        await symlink("busybox", join(o.dir, "bin", applet));
      }
    }
    for (const name of programs) await copyProgram(unpack, name, o.dir);
  } finally {
    await rm(unpack, { recursive: true, force: true });
  }
}

/** Build the root filesystem of `o.recipe` in `o.dir` and check its contract. */
export async function assembleRootfs(o: AssembleOptions): Promise<void> {
  await rm(o.dir, { recursive: true, force: true });
  await mkdir(o.dir, { recursive: true });
  if (o.recipe.base === "debian") await debianRoot(o);
  else if (o.recipe.base === "busybox") await busyboxRoot(o);
  for (const [path, entry] of Object.entries(o.recipe.files ?? {}).sort(([a], [b]) => (a < b ? -1 : 1))) {
    await writeEntry(o.dir, path, entry, o);
  }
  const missing = [];
  for (const p of o.recipe.mustHave ?? []) if (!(await existsInRoot(o.dir, p))) missing.push(p);
  const unwanted = [];
  for (const p of o.recipe.mustNotHave ?? []) if (await existsInRoot(o.dir, p)) unwanted.push(p);
  if (missing.length || unwanted.length) {
    throw new ImageBuildError(
      `image ${o.recipe.name} is not as specified:` +
        (missing.length ? ` missing ${missing.join(", ")};` : "") +
        (unwanted.length ? ` must not contain ${unwanted.join(", ")};` : ""),
      "a Debian package changed its contents or dependencies; adjust src/images/recipes.ts",
    );
  }
}
