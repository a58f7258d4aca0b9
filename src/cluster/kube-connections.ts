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
 *
 * The kept pool is also where kubelab sees the API server's answers: its
 * errors are reported to `onApiServerError`'s listeners (the metrics).
 */
import type { KubeConfig } from "@kubernetes/client-node";
import type { Dispatcher } from "undici";

const SHARED = Symbol("kubelab.sharedConnections");

/** Told of each request the API server refused (status ≥ 400) or never answered (status undefined). */
export type ApiServerErrorListener = (verb: string, status: number | undefined) => void;
const errorListeners = new Set<ApiServerErrorListener>();

/**
 * Listen to the API server's errors on every kubelab client (those made
 * through `shareConnections`, and `kubeRequest`); returns how to stop.
 * The metrics count them (src/server/metrics.ts).
 */
export function onApiServerError(listener: ApiServerErrorListener): () => void {
  errorListeners.add(listener);
  return () => errorListeners.delete(listener);
}

/** Tell the listeners of one failed request (a listener that throws is not the request's problem). */
export function reportApiServerError(verb: string, status: number | undefined): void {
  for (const listener of errorListeners)
    try {
      listener(verb, status);
    } catch {
      // a metric's trouble never fails a request
    }
}

/**
 * An undici interceptor that reports each response's status ≥ 400 and each
 * request that failed before an answer, and otherwise passes everything on.
 * Watches (which end with an error when closed) are reported only when the
 * API server answered them with an error status.
 */
const observeErrors: Dispatcher.DispatcherComposeInterceptor = (dispatch) => (opts, handler) => {
  const verb = String(opts.method ?? "GET");
  let answered = false;
  const h = handler as Dispatcher.DispatchHandler;
  return dispatch(opts, {
    onRequestStart: (controller, context) => h.onRequestStart?.(controller, context),
    onRequestUpgrade: (controller, status, headers, socket) =>
      h.onRequestUpgrade?.(controller, status, headers, socket),
    onResponseStart(controller, status, headers, message) {
      if (status >= 200) answered = true;
      if (status >= 400) reportApiServerError(verb, status);
      return h.onResponseStart?.(controller, status, headers, message);
    },
    onResponseData: (controller, chunk) => h.onResponseData?.(controller, chunk),
    onResponseEnd: (controller, trailers) => h.onResponseEnd?.(controller, trailers),
    onResponseError(controller, err) {
      if (!answered && (err as { name?: string })?.name !== "AbortError") reportApiServerError(verb, undefined);
      return h.onResponseError?.(controller, err);
    },
  });
};

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
    if (pool) return context.setDispatcher(pool);
    const observed = made.compose(observeErrors);
    pools.set(key, observed);
    context.setDispatcher(observed);
  };
  return config;
}
