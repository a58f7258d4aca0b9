/**
 * Turn a root filesystem directory into a reproducible gzip layer blob:
 * GNU tar with sorted names, zero mtimes and numeric root ownership, piped
 * through gzip in-process while hashing both the tar (diff_id) and the gzip
 * stream (blob digest) in one pass.
 */
import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { createWriteStream } from "node:fs";
import { mkdir, readdir, rename, rm } from "node:fs/promises";
import { join } from "node:path";
import { Transform } from "node:stream";
import { pipeline } from "node:stream/promises";
import { createGzip } from "node:zlib";
import { ImageBuildError } from "./exec.ts";
import { LAYER_MEDIA_TYPE, type Layer } from "./manifest.ts";

/** Flags that make the tar byte-identical for identical trees. */
export const TAR_FLAGS = [
  "--format=gnu",
  "--sort=name",
  "--mtime=@0",
  "--numeric-owner",
  "--owner=0",
  "--group=0",
  "--no-acls",
  "--no-xattrs",
  "--no-selinux",
] as const;

/** Where a blob with this digest lives in the cache. */
export function blobPath(blobDir: string, digest: string): string {
  return join(blobDir, digest.replace(":", "/"));
}

/** How a layer is packed. */
export interface LayerPacking {
  /** uid and gid of every entry (default root). */
  owner?: number;
  /**
   * The paths to pack (relative to the root) instead of its top-level entries:
   * their parents then stay out of the layer, as the layers below made them.
   */
  paths?: readonly string[];
}

/** A pass-through stream that hashes what flows through it. */
function hasher(hash: ReturnType<typeof createHash>, count?: { n: number }): Transform {
  return new Transform({
    transform(chunk: Buffer, _enc, done) {
      hash.update(chunk);
      if (count) count.n += chunk.length;
      done(null, chunk);
    },
  });
}

/**
 * Pack `rootfs` (its entries without a "./" prefix) into `<blobDir>/sha256/<hex>`,
 * every entry owned by root, or by `owner` (uid and gid) when given.
 */
export async function createLayer(rootfs: string, blobDir: string, options: LayerPacking = {}): Promise<Layer> {
  await mkdir(join(blobDir, "sha256"), { recursive: true });
  const entries = options.paths ? [...options.paths] : (await readdir(rootfs)).sort();
  if (!entries.length) throw new ImageBuildError(`cannot pack ${rootfs}: it is empty`);
  const tmp = join(blobDir, `.layer-${process.pid}-${Date.now()}.tar.gz`);
  const owner = options.owner ?? 0;
  const flags = TAR_FLAGS.map((f) =>
    f === "--owner=0" ? `--owner=${owner}` : f === "--group=0" ? `--group=${owner}` : f,
  );
  const tar = spawn("tar", [...flags, "-C", rootfs, "-cf", "-", "--", ...entries], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  const stderr: Buffer[] = [];
  tar.stderr.on("data", (b: Buffer) => stderr.push(b));
  const exited = new Promise<number | null>((resolve, reject) => {
    tar.on("error", reject);
    tar.on("close", resolve);
  });
  const diff = createHash("sha256");
  const blob = createHash("sha256");
  const size = { n: 0 };
  try {
    await pipeline(tar.stdout, hasher(diff), createGzip({ level: 6 }), hasher(blob, size), createWriteStream(tmp));
    const code = await exited;
    if (code !== 0) {
      throw new ImageBuildError(
        `tar of ${rootfs} exited with ${code}: ${Buffer.concat(stderr).toString().trim()}`,
        "is GNU tar installed?",
      );
    }
  } catch (e) {
    await rm(tmp, { force: true });
    throw e;
  }
  const digest = `sha256:${blob.digest("hex")}`;
  await rename(tmp, blobPath(blobDir, digest));
  return { mediaType: LAYER_MEDIA_TYPE, digest, size: size.n, diffId: `sha256:${diff.digest("hex")}` };
}
