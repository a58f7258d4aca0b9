/**
 * The node's local registry (Debian's docker-registry, distribution v2.8):
 * its config file and a minimal Registry HTTP API v2 client for pushing
 * blobs and manifests on the loopback interface. The node's registry speaks
 * only TLS with client certificates (see {@link RegistryTls}): otherwise any
 * local program, or a web page through DNS rebinding, could replace the
 * images the lessons run (debug-tools runs privileged on the host).
 */
import { openAsBlob } from "node:fs";
import { Agent, fetch, type BodyInit, type RequestInit, type Response } from "undici";
import { ImageBuildError } from "./exec.ts";
import { MANIFEST_MEDIA_TYPE, type Document } from "./manifest.ts";

/** TLS of a registry: its serving certificate and the CA its clients' certificates must chain to (file paths). */
export interface RegistryServerTls {
  certificate: string;
  key: string;
  clientCa: string;
}

/** A client's side of the registry's TLS: the CA to trust and the client certificate (PEM text). */
export interface RegistryTls {
  ca: string;
  cert: string;
  key: string;
}

/**
 * docker-registry config: filesystem storage under `storageDir`, served on
 * `listenAddr` (e.g. "127.0.0.1:5000") over TLS requiring a client
 * certificate when `tls` is given (plain http otherwise), deletes allowed
 * (so labs can clean up), quiet logs. Strings are JSON-quoted, which YAML accepts.
 */
export function registryConfigYaml(storageDir: string, listenAddr: string, tls?: RegistryServerTls): string {
  return [
    "version: 0.1",
    "log:",
    "  level: warn",
    "  accesslog:",
    "    disabled: true",
    "storage:",
    "  filesystem:",
    `    rootdirectory: ${JSON.stringify(storageDir)}`,
    "  delete:",
    "    enabled: true",
    "  cache:",
    "    blobdescriptor: inmemory",
    "  maintenance:",
    "    uploadpurging:",
    "      enabled: false",
    "http:",
    `  addr: ${JSON.stringify(listenAddr)}`,
    // Only signs upload state between instances; a fixed value silences the startup warning.
    "  secret: kubelab-local-registry",
    "  headers:",
    "    X-Content-Type-Options: [nosniff]",
    ...(tls
      ? [
          "  tls:",
          `    certificate: ${JSON.stringify(tls.certificate)}`,
          `    key: ${JSON.stringify(tls.key)}`,
          // With client CAs the registry requires and verifies a client certificate.
          `    clientcas: [${JSON.stringify(tls.clientCa)}]`,
          "    minimumtls: tls1.2",
        ]
      : []),
    "",
  ].join("\n");
}

const HINT = (registry: string) => `is the local registry running on ${registry}? (docker-registry serve <config.yml>)`;

/** Environment variables holding an operator's registry credentials (`images push`). */
export const REGISTRY_USERNAME_ENV = "KUBELAB_REGISTRY_USERNAME";
export const REGISTRY_PASSWORD_ENV = "KUBELAB_REGISTRY_PASSWORD";

/** An operator's registry, elsewhere on the network (`images push`), rather than one of kubelab's own. */
export interface RemoteRegistry {
  /** Plain HTTP (`--insecure`); otherwise HTTPS, trusting the system's CAs and NODE_EXTRA_CA_CERTS. */
  insecure?: boolean;
  /** Basic credentials, also traded for a bearer token where the registry asks for one. */
  credentials?: { username: string; password: string };
}

/** What went wrong talking to a registry, for its hint. */
type Trouble = "unreachable" | "tls" | "auth" | "refused";

const TLS_ERROR = /CERT|SSL|TLS|EPROTO|self.signed|wrong version number|certificate/i;

/**
 * Registry HTTP API v2 client for one registry host ("127.0.0.1:5000"): over
 * https with a client certificate when `tls` is given (kubelab's own
 * registry), over plain http on loopback otherwise, or as `remote` says.
 */
export class RegistryClient {
  readonly registry: string;
  readonly base: string;
  private readonly dispatcher?: Agent;
  private readonly remote?: RemoteRegistry;
  /** The Authorization header the registry last accepted or asked for. */
  private authorization?: string;

  constructor(registry: string, tls?: RegistryTls, remote?: RemoteRegistry) {
    this.registry = registry;
    this.remote = remote;
    this.base = `${tls || (remote && !remote.insecure) ? "https" : "http"}://${registry}`;
    if (tls) this.dispatcher = new Agent({ connect: { ca: tls.ca, cert: tls.cert, key: tls.key } });
  }

  private hint(trouble: Trouble): string {
    if (!this.remote) return HINT(this.registry);
    switch (trouble) {
      case "unreachable":
        return `is ${this.registry} the registry's host[:port], and reachable from here? (curl ${this.base}/v2/)`;
      case "tls":
        return this.remote.insecure
          ? `${this.registry} speaks HTTPS: leave out --insecure`
          : `trust the registry's CA (NODE_EXTRA_CA_CERTS=ca.pem ./kubelab …), or, for a registry that speaks plain HTTP, add --insecure`;
      case "auth":
        return `set ${REGISTRY_USERNAME_ENV} and ${REGISTRY_PASSWORD_ENV} to an account that may push to ${this.registry}`;
      case "refused":
        return `the registry refused the request: is ${this.registry} a Docker registry (Distribution API v2) that accepts pushes?`;
    }
  }

  private async request(method: string, path: string, init: RequestInit = {}): Promise<Response> {
    const url = path.startsWith("http") ? path : `${this.base}${path}`;
    const send = () =>
      fetch(url, {
        ...init,
        headers: { ...(init.headers as Record<string, string>), ...this.authHeader() },
        method,
        dispatcher: this.dispatcher,
        signal: init.signal ?? AbortSignal.timeout(120_000),
      });
    try {
      const res = await send();
      if (res.status !== 401 || !this.remote?.credentials || !(await this.authorize(res))) return res;
      await res.body?.cancel();
      return await send();
    } catch (e) {
      if (e instanceof ImageBuildError) throw e;
      const cause = (e as { cause?: { code?: string; message?: string } }).cause;
      const why = cause?.code ?? cause?.message ?? (e as Error).message;
      const trouble = TLS_ERROR.test(`${why} ${cause?.message ?? ""}`) ? "tls" : "unreachable";
      throw new ImageBuildError(`${method} ${url} failed: ${why}`, this.hint(trouble), { cause: e });
    }
  }

  private authHeader(): Record<string, string> {
    return this.authorization ? { authorization: this.authorization } : {};
  }

  /**
   * Answer a 401's challenge with the credentials: Basic as they are, Bearer
   * by trading them at the realm for a token of the asked scope. False when
   * the challenge is one not understood here (the 401 then stands).
   */
  private async authorize(res: Response): Promise<boolean> {
    const { username, password } = this.remote!.credentials!;
    const basic = `Basic ${Buffer.from(`${username}:${password}`).toString("base64")}`;
    const challenge = res.headers.get("www-authenticate") ?? "";
    if (/^basic/i.test(challenge)) {
      if (this.authorization === basic) return false;
      this.authorization = basic;
      return true;
    }
    if (!/^bearer/i.test(challenge)) return false;
    const params = Object.fromEntries([...challenge.matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1], m[2]]));
    if (!params.realm) return false;
    const realm = new URL(params.realm);
    for (const key of ["service", "scope"]) if (params[key]) realm.searchParams.set(key, params[key]);
    const tokenRes = await fetch(realm, { headers: { authorization: basic }, signal: AbortSignal.timeout(30_000) });
    if (!tokenRes.ok) {
      await tokenRes.body?.cancel();
      throw new ImageBuildError(
        `${realm.origin} gave no token for ${this.registry}: HTTP ${tokenRes.status}`,
        this.hint("auth"),
      );
    }
    const body = (await tokenRes.json()) as { token?: string; access_token?: string };
    const token = body.token ?? body.access_token;
    if (!token) return false;
    this.authorization = `Bearer ${token}`;
    return true;
  }

  private async fail(what: string, res: Response): Promise<never> {
    const body = (await res.text().catch(() => "")).slice(0, 300);
    const trouble = res.status === 401 || res.status === 403 ? "auth" : "refused";
    throw new ImageBuildError(`${what}: HTTP ${res.status} ${body}`.trim(), this.hint(trouble));
  }

  /** True when the registry answers the v2 API base endpoint. */
  async ping(): Promise<boolean> {
    try {
      const res = await fetch(`${this.base}/v2/`, { dispatcher: this.dispatcher, signal: AbortSignal.timeout(2000) });
      await res.body?.cancel();
      return res.status === 200 || res.status === 401;
    } catch {
      return false;
    }
  }

  /** Throw with a hint unless the registry answers its API (with the credentials, where it asks for them). */
  async checkAccess(): Promise<void> {
    const res = await this.request("GET", "/v2/");
    if (res.ok) return void (await res.body?.cancel());
    return this.fail(`GET ${this.base}/v2/`, res);
  }

  /** Digest of the manifest stored under `repository:tag`, or undefined. */
  async manifestDigest(repository: string, tag: string): Promise<string | undefined> {
    const res = await this.request("HEAD", `/v2/${repository}/manifests/${tag}`, {
      headers: { Accept: MANIFEST_MEDIA_TYPE },
    });
    if (res.status === 404) return undefined;
    if (!res.ok) return this.fail(`HEAD manifest ${repository}:${tag}`, res);
    return res.headers.get("docker-content-digest") ?? undefined;
  }

  async hasBlob(repository: string, digest: string): Promise<boolean> {
    const res = await this.request("HEAD", `/v2/${repository}/blobs/${digest}`);
    if (res.status === 404) return false;
    if (!res.ok) return this.fail(`HEAD blob ${repository}@${digest}`, res);
    return true;
  }

  /**
   * Upload a blob in one request (POST to open an upload, PUT with the
   * digest to complete it), unless the registry already has it.
   * Returns true when bytes were sent.
   */
  async pushBlob(repository: string, digest: string, source: { file: string } | { bytes: Buffer }): Promise<boolean> {
    if (await this.hasBlob(repository, digest)) return false;
    const start = await this.request("POST", `/v2/${repository}/blobs/uploads/`);
    await start.body?.cancel();
    if (start.status !== 202) return this.fail(`start upload to ${repository}`, start);
    const location = start.headers.get("location");
    if (!location)
      throw new ImageBuildError(`registry gave no upload location for ${repository}`, this.hint("refused"));
    const url = new URL(location, this.base);
    url.searchParams.set("digest", digest);
    // A file-backed Blob streams the layer from disk. (The cast: undici's types see a newer @types/node Blob; same runtime class.)
    const body =
      "file" in source ? ((await openAsBlob(source.file)) as unknown as BodyInit) : new Uint8Array(source.bytes);
    const put = await this.request("PUT", url.toString(), {
      headers: { "Content-Type": "application/octet-stream" },
      body,
    });
    await put.body?.cancel();
    if (put.status !== 201) return this.fail(`upload blob ${digest} to ${repository}`, put);
    return true;
  }

  /** Store a manifest under a tag; returns the digest the registry computed. */
  async putManifest(repository: string, tag: string, manifest: Document): Promise<string> {
    const res = await this.request("PUT", `/v2/${repository}/manifests/${tag}`, {
      headers: { "Content-Type": manifest.mediaType },
      body: new Uint8Array(manifest.bytes),
    });
    await res.body?.cancel();
    if (res.status !== 201) return this.fail(`PUT manifest ${repository}:${tag}`, res);
    const digest = res.headers.get("docker-content-digest") ?? manifest.digest;
    if (digest !== manifest.digest) {
      throw new ImageBuildError(
        `registry stored ${repository}:${tag} as ${digest}, expected ${manifest.digest}`,
        "the registry rewrote the manifest; is it docker-registry 2.x?",
      );
    }
    return digest;
  }

  /** Fetch a manifest document (for verification and tests). */
  async getManifest(repository: string, ref: string): Promise<unknown> {
    const res = await this.request("GET", `/v2/${repository}/manifests/${ref}`, {
      headers: { Accept: MANIFEST_MEDIA_TYPE },
    });
    if (!res.ok) return this.fail(`GET manifest ${repository}:${ref}`, res);
    return res.json();
  }

  /** Fetch a blob's bytes (for verification and tests). */
  async getBlob(repository: string, digest: string): Promise<Buffer> {
    const res = await this.request("GET", `/v2/${repository}/blobs/${digest}`);
    if (!res.ok) return this.fail(`GET blob ${repository}@${digest}`, res);
    return Buffer.from(await res.arrayBuffer());
  }
}
