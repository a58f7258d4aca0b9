/**
 * `./kubelab images push`: publish the server image and every catalog image
 * (the toolbox, the lessons' busybox, nginx and debug-tools, pause) to an
 * operator's registry, each under its repository there (R/kubelab/server:0.1.0,
 * R/kubelab/toolbox:3, R/library/busybox:latest, …): what a cluster that
 * mirrors docker.io and registry.k8s.io to R, or a server started with
 * `--registry R`, pulls. Through the registry HTTP API (registry.ts), from
 * the image builder's cache; idempotent: an image whose manifest the
 * registry holds already is skipped, and so is every blob it has.
 */
import { ensureLayers, pushDocuments, recipeImage, withCache, type ImageDocuments } from "./build.ts";
import { CATALOG, imageIn } from "./catalog.ts";
import { RegistryClient, type RemoteRegistry } from "./registry.ts";
import type { SuppliedBinaries } from "./recipe.ts";
import { SERVER_REPOSITORY, type ServerImage } from "./server-image.ts";

export interface PushOptions {
  /** host[:port][/path] of the operator's registry. */
  registry: string;
  remote: RemoteRegistry;
  /** The image builder's cache (<kubelab cache>/images). */
  cacheDir: string;
  /**
   * Build the server image and supply what the catalog's recipes put in
   * theirs (kubectl, pause, the terminal agent): called once the registry
   * answered, so a wrong name fails in a second, not after a build.
   */
  prepare(): Promise<{ server: ServerImage; binaries: SuppliedBinaries }>;
  onProgress?: (line: string) => void;
}

export interface PushedImage {
  /** Its name in the registry, e.g. "registry.example.com/kubelab/toolbox:3". */
  image: string;
  digest: string;
  /** False when the registry held this manifest already. */
  pushed: boolean;
}

const mb = (n: number) => `${(n / 1e6).toFixed(1)} MB`;

/** Push every image the server and its lessons pull (see the file's comment). */
export async function pushImages(o: PushOptions): Promise<PushedImage[]> {
  const progress = o.onProgress ?? (() => {});
  const client = new RegistryClient(o.registry.split("/")[0], undefined, o.remote);
  // The path part of R (a project, an organisation) prefixes every repository.
  const prefix = o.registry.includes("/") ? `${o.registry.slice(o.registry.indexOf("/") + 1)}/` : "";
  await client.checkAccess();
  const { server, binaries } = await o.prepare();
  const layers = await withCache(o.cacheDir, progress, () =>
    ensureLayers(
      { cacheDir: o.cacheDir, binaries, onProgress: progress },
      CATALOG.map((e) => e.recipe),
    ),
  );
  const blobDir = `${o.cacheDir}/blobs`;
  const images: { repository: string; tag: string; documents: ImageDocuments }[] = [
    {
      repository: SERVER_REPOSITORY,
      tag: server.tag.slice(server.tag.lastIndexOf(":") + 1),
      documents: {
        config: server.config,
        manifest: server.manifest,
        layers: server.layers.map((l) => l.layer),
        blobDir,
      },
    },
    ...CATALOG.map((e) => ({
      repository: e.repository,
      tag: e.tag,
      documents: recipeImage(layers.get(e.recipe)!, o.cacheDir),
    })),
  ];
  const results: PushedImage[] = [];
  // One at a time: two tags of one repository share their blobs, uploaded once.
  for (const { repository, tag, documents } of images) {
    const name = imageIn(o.registry, { ref: "", repository, tag });
    const there = await client.manifestDigest(prefix + repository, tag);
    if (there === documents.manifest.digest) {
      progress(`${name}: up to date`);
      results.push({ image: name, digest: there, pushed: false });
      continue;
    }
    const sent = await pushDocuments(client, prefix + repository, tag, documents);
    progress(`${name}: pushed (${sent ? `${mb(sent)} of layers sent` : "its layers were there"})`);
    results.push({ image: name, digest: documents.manifest.digest, pushed: true });
  }
  return results;
}
