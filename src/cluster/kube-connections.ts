/**
 * One connection pool per set of credentials for client-node's API calls.
 *
 * client-node makes a new undici Agent for every request, so every call is a
 * new TCP and TLS connection: a secure context built from the kubeconfig's
 * CA, certificate and key, a handshake on both ends. A server grading a class
 * makes thousands of calls a minute; those handshakes were the largest part
 * of its CPU time beside idling. The first request's Agent (its TLS options
 * and keep-alive are client-node's own) is kept and handed to every later
 * request with the same cluster and user, so connections are reused.
 */
import type { KubeConfig } from "@kubernetes/client-node";
import type { Dispatcher } from "undici";

const SHARED = Symbol("kubelab.sharedConnections");

/** Makes `config`'s API clients share connections; returns `config`. Idempotent. */
export function shareConnections(config: KubeConfig): KubeConfig {
  const patched = config as KubeConfig & { [SHARED]?: true };
  if (patched[SHARED]) return config;
  patched[SHARED] = true;
  const apply = config.applySecurityAuthentication.bind(config);
  const pools = new Map<string, Dispatcher>();
  config.applySecurityAuthentication = async (context) => {
    await apply(context);
    // The TLS identity of the request: who connects where (the kubeconfig's current cluster and user).
    const cluster = config.getCurrentCluster();
    const user = config.getCurrentUser();
    const key = JSON.stringify([
      cluster?.name,
      cluster?.server,
      cluster?.caData ?? cluster?.caFile,
      cluster?.skipTLSVerify,
      cluster?.tlsServerName,
      user?.name,
      user?.certData ?? user?.certFile,
      user?.keyData ?? user?.keyFile,
    ]);
    const made = context.getDispatcher();
    if (!made) return;
    const pool = pools.get(key);
    if (pool) context.setDispatcher(pool);
    else pools.set(key, made);
  };
  return config;
}
