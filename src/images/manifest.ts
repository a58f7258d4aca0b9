/**
 * Image config and manifest documents (Docker image manifest v2, schema 2,
 * which both docker-registry 2.8 and containerd 1.6 handle natively).
 * Serialisation is deterministic, so the same layers and settings always
 * give the same manifest digest and a warm run can compare digests only.
 */
import { createHash } from "node:crypto";

export const MANIFEST_MEDIA_TYPE = "application/vnd.docker.distribution.manifest.v2+json";
export const CONFIG_MEDIA_TYPE = "application/vnd.docker.container.image.v1+json";
export const LAYER_MEDIA_TYPE = "application/vnd.docker.image.rootfs.diff.tar.gzip";

/** A content-addressed blob as pushed to the registry. */
export interface Blob {
  mediaType: string;
  /** "sha256:<hex>" of the exact bytes. */
  digest: string;
  size: number;
}

/** A built layer: the compressed blob plus the digest of the uncompressed tar. */
export interface Layer extends Blob {
  diffId: string;
}

/** Runtime defaults of an image (the "config" object of the image config). */
export interface ContainerConfig {
  Env?: string[];
  Entrypoint?: string[];
  Cmd?: string[];
  WorkingDir?: string;
  User?: string;
  ExposedPorts?: Record<string, Record<string, never>>;
  StopSignal?: string;
  /** Paths the runtime makes volumes of when the user mounts none there. */
  Volumes?: Record<string, Record<string, never>>;
  Labels?: Record<string, string>;
}

export const DEFAULT_PATH = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/** "sha256:<hex>" of a buffer or string. */
export function sha256Digest(data: string | Uint8Array): string {
  return `sha256:${createHash("sha256").update(data).digest("hex")}`;
}

/** A serialised document together with its digest, ready to push. */
export interface Document {
  bytes: Buffer;
  digest: string;
  mediaType: string;
}

function document(value: unknown, mediaType: string): Document {
  const bytes = Buffer.from(JSON.stringify(value));
  return { bytes, digest: sha256Digest(bytes), mediaType };
}

/**
 * The image config blob. Timestamps are fixed at the epoch so the digest only
 * depends on content; history has one entry per layer as clients expect.
 */
export function imageConfig(config: ContainerConfig, layers: readonly Layer[], comment: string): Document {
  return document(
    {
      architecture: "amd64",
      os: "linux",
      created: "1970-01-01T00:00:00Z",
      config: sortKeys(config),
      rootfs: { type: "layers", diff_ids: layers.map((l) => l.diffId) },
      history: layers.map(() => ({ created: "1970-01-01T00:00:00Z", created_by: comment })),
    },
    CONFIG_MEDIA_TYPE,
  );
}

/** The image manifest pointing at a config blob and layers. */
export function imageManifest(config: Document, layers: readonly Layer[]): Document {
  return document(
    {
      schemaVersion: 2,
      mediaType: MANIFEST_MEDIA_TYPE,
      config: { mediaType: CONFIG_MEDIA_TYPE, size: config.bytes.length, digest: config.digest },
      layers: layers.map((l) => ({ mediaType: LAYER_MEDIA_TYPE, size: l.size, digest: l.digest })),
    },
    MANIFEST_MEDIA_TYPE,
  );
}

/** Copy with keys in sorted order, so key order in code never changes a digest. */
function sortKeys<T extends object>(o: T): T {
  return Object.fromEntries(
    Object.entries(o)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : 1)),
  ) as T;
}
