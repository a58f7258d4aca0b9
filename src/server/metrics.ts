/**
 * kubelab's Prometheus metrics (docs/operations.md lists them): one registry
 * per server, read at `/metrics` behind the front door's access rules, and
 * optionally on a port of its own for a cluster's scraper
 * (`--metrics-port` / KUBELAB_METRICS_PORT).
 *
 * Every label value comes from a bounded set: exercise and exam ids (the
 * repository's), results, lab states, HTTP verbs and statuses, store
 * operations. No learner id, lab id, namespace or session ever becomes a
 * label: a scraper keeps every distinct label set as a series forever.
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";
import { KubelabError } from "../errors.ts";
import type { Lab } from "../lab/types.ts";
import type { Store } from "../store/index.ts";
import { route, type Route } from "./http/route.ts";

/** The environment variable for the scraper's port (`PORT` or `HOST:PORT`). */
export const METRICS_PORT_ENV = "KUBELAB_METRICS_PORT";
export const METRICS_PATH = "/metrics";

/** A Check's outcome: the learner's answer passed or failed, or grading itself failed. */
export type CheckOutcome = "passed" | "failed" | "error";

/** Check latency buckets (seconds): fine below a second, where most Checks land, up to a slow 30 s. */
export const CHECK_BUCKETS = [0.05, 0.1, 0.2, 0.3, 0.5, 0.75, 1, 1.5, 2, 3, 5, 7.5, 10, 15, 30];

const LAB_STATES: readonly Lab["state"][] = ["starting", "ready", "deleting", "error"];

export interface KubelabMetrics {
  readonly registry: Registry;
  /** One Check graded (or failed to grade) in `seconds`. */
  check(exercise: string, outcome: CheckOutcome, seconds: number): void;
  /** An exam attempt started, or was submitted (by the learner, or by the server at its deadline). */
  examAttempt(event: "started" | "submitted" | "auto_submitted"): void;
  /** A store call that threw (`operation` is the store method's name). */
  storeError(operation: string): void;
  /** A request of kubelab's own Kubernetes clients that the API server refused (status ≥ 400) or never answered (`status` undefined). */
  apiServerError(verb: string, status: number | undefined): void;
  /** What the gauges read at each scrape: the labs this server holds, its open terminals, the store's running attempts. */
  observe(sources: { labs?: () => readonly Pick<Lab, "state">[]; terminals?: () => number; store?: Store }): void;
  /** The text a scraper reads, and its content type. */
  scrape(): Promise<{ body: string; contentType: string }>;
}

export function createMetrics(options: { defaultMetrics?: boolean } = {}): KubelabMetrics {
  const registry = new Registry();
  if (options.defaultMetrics !== false) collectDefaultMetrics({ register: registry, prefix: "kubelab_" });
  const sources: Parameters<KubelabMetrics["observe"]>[0] = {};

  new Gauge({
    name: "kubelab_labs",
    help: "Labs this server holds, by state.",
    labelNames: ["state"],
    registers: [registry],
    collect() {
      const labs = sources.labs?.() ?? [];
      for (const state of LAB_STATES) this.set({ state }, labs.filter((l) => l.state === state).length);
    },
  });
  new Gauge({
    name: "kubelab_terminals_open",
    help: "Terminal WebSockets open on this server.",
    registers: [registry],
    collect() {
      this.set(sources.terminals?.() ?? 0);
    },
  });
  new Gauge({
    name: "kubelab_exam_attempts_running",
    help: "Exam attempts started and not yet submitted (from the store).",
    registers: [registry],
    async collect() {
      // A failing store shows in kubelab_store_errors_total; the gauge keeps its last value.
      const running = await sources.store?.runningExamAttempts().catch(() => undefined);
      if (running) this.set(running.length);
    },
  });
  const checks = new Counter({
    name: "kubelab_checks_total",
    help: "Checks answered, by exercise and outcome (passed, failed, error: grading itself failed).",
    labelNames: ["exercise", "outcome"],
    registers: [registry],
  });
  const checkSeconds = new Histogram({
    name: "kubelab_check_duration_seconds",
    help: "How long a Check took on the server, in seconds: from the request's arrival through grading to the recorded attempt.",
    labelNames: ["outcome"],
    buckets: CHECK_BUCKETS,
    registers: [registry],
  });
  const exams = new Counter({
    name: "kubelab_exam_attempts_total",
    help: "Exam attempts started and submitted (auto_submitted: by the server at the deadline).",
    labelNames: ["event"],
    registers: [registry],
  });
  const storeErrors = new Counter({
    name: "kubelab_store_errors_total",
    help: "Store calls that failed, by operation.",
    labelNames: ["operation"],
    registers: [registry],
  });
  const apiErrors = new Counter({
    name: "kubelab_apiserver_errors_total",
    help: "Requests of kubelab's Kubernetes clients the API server refused (status >= 400) or never answered (status none), by verb.",
    labelNames: ["verb", "status"],
    registers: [registry],
  });

  return {
    registry,
    check(exercise, outcome, seconds) {
      checks.inc({ exercise, outcome });
      checkSeconds.observe({ outcome }, seconds);
    },
    examAttempt: (event) => exams.inc({ event }),
    storeError: (operation) => storeErrors.inc({ operation }),
    apiServerError(verb, status) {
      apiErrors.inc({ verb: verb.toUpperCase(), status: status === undefined ? "none" : String(status) });
    },
    observe(more) {
      Object.assign(sources, more);
    },
    async scrape() {
      return { body: await registry.metrics(), contentType: registry.contentType };
    },
  };
}

/**
 * The store, with every failing call counted (by method name) and exam
 * attempts' starts and submissions counted; it behaves as the store does.
 * Wrapping here keeps the store implementations free of metrics.
 */
export function instrumentStore(store: Store, metrics: KubelabMetrics): Store {
  return new Proxy(store, {
    get(target, key, receiver) {
      const value = Reflect.get(target, key, receiver);
      if (typeof value !== "function" || typeof key !== "string" || key === "close") return value;
      return async (...args: unknown[]) => {
        try {
          const result = await value.apply(target, args);
          if (key === "startExamAttempt") metrics.examAttempt("started");
          if (key === "submitExamAttempt" && result === true)
            metrics.examAttempt((args[1] as { auto?: boolean })?.auto ? "auto_submitted" : "submitted");
          return result;
        } catch (err) {
          metrics.storeError(key);
          throw err;
        }
      };
    },
  });
}

/** The `/metrics` route: behind the front door's Host and access rules like every API route. */
export function metricsRoute(metrics: KubelabMetrics): Route {
  return route({
    method: "GET",
    path: METRICS_PATH,
    auth: "public",
    csrf: false,
    async handler({ res }) {
      const { body, contentType } = await metrics.scrape();
      res.writeHead(200, { "content-type": contentType, "cache-control": "no-store" });
      res.end(body);
    },
  });
}

/** `PORT` (every address: it is for a scraper elsewhere in the cluster) or `HOST:PORT`. */
export function parseMetricsAddress(value: string): { host: string; port: number } {
  const m = /^(?:(.+):)?(\d{1,5})$/.exec(value.trim());
  const port = m ? Number(m[2]) : NaN;
  if (!m || port < 1 || port > 65535)
    throw new KubelabError(
      `the metrics port "${value}" is not a port`,
      `Give a port (9464) or an address and port (127.0.0.1:9464) to --metrics-port or ${METRICS_PORT_ENV}.`,
    );
  return { host: m[1]?.replace(/^\[|\]$/g, "") ?? "0.0.0.0", port };
}

/**
 * A separate listener that answers only GET /metrics (for a cluster's
 * scraper that cannot pass the access password). It serves no learner data:
 * every other path is 404.
 */
export async function serveMetrics(
  metrics: KubelabMetrics,
  address: { host: string; port: number },
): Promise<{ url: string; close(): Promise<void> }> {
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? "/").split("?")[0];
    if (path !== METRICS_PATH || (req.method !== "GET" && req.method !== "HEAD")) {
      res.writeHead(404, { "content-type": "text/plain" });
      return void res.end("only GET /metrics is served here\n");
    }
    metrics.scrape().then(
      ({ body, contentType }) => {
        res.writeHead(200, { "content-type": contentType });
        res.end(req.method === "HEAD" ? undefined : body);
      },
      (err: unknown) => {
        res.writeHead(500, { "content-type": "text/plain" });
        res.end(`collecting metrics failed: ${(err as Error)?.message ?? err}\n`);
      },
    );
  });
  await new Promise<void>((resolveListen, reject) => {
    server.once("error", (err: NodeJS.ErrnoException) =>
      reject(
        new KubelabError(
          `cannot serve metrics on ${address.host}:${address.port}: ${err.code ?? err.message}`,
          err.code === "EADDRINUSE" ? "Pick another --metrics-port, or stop what listens there." : "Check the address.",
        ),
      ),
    );
    server.listen(address.port, address.host, () => resolveListen());
  });
  const { port } = server.address() as AddressInfo;
  const shown = address.host.includes(":") ? `[${address.host}]` : address.host;
  return {
    url: `http://${shown}:${port}${METRICS_PATH}`,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}
