/**
 * A raw request to the API server with a KubeConfig's credentials, for the few
 * calls the typed client-node APIs don't cover (discovery, deletecollection of
 * any resource).
 */
import { request as httpsRequest, type RequestOptions } from "node:https";
import type { KubeConfig } from "@kubernetes/client-node";

export interface KubeResponse {
  status: number;
  body: string;
}

export async function kubeRequest(config: KubeConfig, method: string, path: string, body?: unknown): Promise<KubeResponse> {
  const server = config.getCurrentCluster()?.server;
  if (!server) throw new Error("the kubeconfig has no current cluster");
  const url = new URL(path, server);
  const options: RequestOptions = { method, headers: { accept: "application/json" } };
  await config.applyToHTTPSOptions(options);
  const payload = body === undefined ? undefined : JSON.stringify(body);
  if (payload) options.headers = { ...options.headers, "content-type": "application/json" };
  return new Promise((resolveResponse, reject) => {
    const req = httpsRequest(url, options, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (chunk: Buffer) => chunks.push(chunk));
      res.on("end", () => resolveResponse({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString() }));
      res.on("error", reject);
    });
    req.on("error", reject);
    req.setTimeout(15_000, () => req.destroy(new Error(`${method} ${path}: timed out after 15 s`)));
    req.end(payload);
  });
}

export async function kubeGetJson(config: KubeConfig, path: string): Promise<any> {
  const response = await kubeRequest(config, "GET", path);
  if (response.status !== 200) throw new Error(`GET ${path}: HTTP ${response.status}`);
  return JSON.parse(response.body);
}
