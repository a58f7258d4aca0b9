/**
 * A raw request to the API server with a KubeConfig's credentials, for the few
 * calls the typed client-node APIs don't cover (discovery, deletecollection of
 * any resource).
 */
import { request as httpsRequest, type RequestOptions } from "node:https";
import type { KubeConfig } from "@kubernetes/client-node";
import { KubelabError } from "../errors.ts";
import { reportApiServerError } from "./kube-connections.ts";

/**
 * The HTTP status of a failed API call: client-node's ApiException (`code`),
 * older clients' `statusCode` / `response.statusCode`. Undefined for errors
 * that never reached the API server (network, timeout).
 */
export function apiStatus(err: unknown): number | undefined {
  if (typeof err !== "object" || err === null) return undefined;
  const e = err as { code?: unknown; statusCode?: unknown; response?: { statusCode?: unknown } };
  for (const c of [e.code, e.statusCode, e.response?.statusCode]) if (typeof c === "number") return c;
  return undefined;
}

export interface KubeResponse {
  status: number;
  body: string;
}

/** `headers` are added to the request's (e.g. a content type of its own, or impersonation). */
export async function kubeRequest(
  config: KubeConfig,
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string | string[]> = {},
): Promise<KubeResponse> {
  const server = config.getCurrentCluster()?.server;
  if (!server) throw new KubelabError("the kubeconfig has no current cluster", "run `./kubelab cluster status`; with KUBELAB_PROVIDER=kubeconfig, `kubectl config use-context <name>`");
  const url = new URL(path, server);
  const options: RequestOptions = { method, headers: { accept: "application/json" } };
  await config.applyToHTTPSOptions(options);
  const payload = body === undefined ? undefined : JSON.stringify(body);
  if (payload) options.headers = { ...options.headers, "content-type": "application/json" };
  options.headers = { ...options.headers, ...headers };
  return new Promise((resolveResponse, reject) => {
    const req = httpsRequest(url, options, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (chunk: Buffer) => chunks.push(chunk));
      res.on("end", () => resolveResponse({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString() }));
      res.on("error", reject);
      if ((res.statusCode ?? 0) >= 400) reportApiServerError(method, res.statusCode);
    });
    req.on("error", (err) => {
      reportApiServerError(method, undefined);
      reject(err);
    });
    req.setTimeout(15_000, () => req.destroy(new Error(`${method} ${path}: timed out after 15 s`)));
    req.end(payload);
  });
}

export async function kubeGetJson(config: KubeConfig, path: string): Promise<any> {
  const response = await kubeRequest(config, "GET", path);
  if (response.status !== 200) throw new KubelabError(`GET ${path}: HTTP ${response.status}`, "check the cluster with `./kubelab cluster status`", { status: 502 });
  return JSON.parse(response.body);
}
