/**
 * The composition root: a cluster from a provider, the lab manager, one
 * recorder per learner namespace, the graders, the site and the lab server,
 * wired into one running kubelab. The CLI's `start` and the tests use this.
 */
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { Exec, KubeConfig, VersionApi } from "@kubernetes/client-node";
import { createClassHttp } from "../class/class-http.ts";
import { createClassService } from "../class/class-service.ts";
import { defaultStateDir } from "../cluster/local/layout.ts";
import type { ClusterProvider } from "../cluster/provider.ts";
import { createGradeContext, graders, gradeExercise, kubeExec } from "../graders/index.ts";
import { loadExercises } from "../graders/exercises.ts";
import {
  apiServerEndpoints,
  followApiServerEndpoints,
  refreshApiEgress,
  createLabKube,
  createLabManager,
  labIdIsOfMode,
  toolboxAgents,
  watchPolicyEnforcement,
} from "../lab/index.ts";
import { kubeconfigYaml, labNames } from "../lab/manifests.ts";
import type { ComputeShare } from "../lab/share.ts";
import type { IsolationMode, LabManager } from "../lab/types.ts";
import { addLogContext } from "../logger.ts";
import { BUSYBOX_IMAGE, catalogImageIn, toolboxImageIn } from "../images/catalog.ts";
import { RecorderPool } from "../recorder/index.ts";
import { scheduleSweep, sweepNamespaces, type JudgedNamespace, type SweepMode, type SweepOptions } from "./sweep.ts";
import { createExamApi } from "../exams/exam-api.ts";
import { createExamService, type ExamService } from "../exams/exam-service.ts";
import { checkServerExposure, createLabServer, type GradeService } from "../server/server.ts";
import { accessTokenIn } from "../server/access.ts";
import { raiseServerCpuWeight } from "../host/cpu-weight.ts";
import { isLoopbackBind } from "../server/host-check.ts";
import { onApiServerError, shareConnections } from "../cluster/kube-connections.ts";
import { createMetrics, instrumentStore, serveMetrics, type KubelabMetrics } from "../server/metrics.ts";
import { createHealth } from "../server/http/health.ts";
import { createSiteHandler } from "../server/site.ts";
import { agentTransport, apiExecTransport, createTerminalPark } from "../terminal/index.ts";
import { ensureSite } from "../site-build/site-build.ts";
import { openStore, type Store } from "../store/index.ts";
import { ClusterViewFeeds } from "../workbench/cluster-view/feed.ts";

export interface KubelabOptions {
  provider: ClusterProvider;
  mode?: IsolationMode;
  port?: number;
  host?: string;
  /**
   * Serving from the all-in-one container (src/cluster/local/container.ts):
   * on a network address without a password, an access token kept in the
   * state volume is required instead.
   */
  inContainer?: boolean;
  /** Where that token is kept (default `<state>/lab-server/access-token`, in the volume). */
  accessTokenFile?: string;
  allowedOrigins?: string[];
  /** Host names served besides loopback (see src/server/host-check.ts). */
  allowedHosts?: string[];
  /** Reverse proxies whose X-Forwarded-For names the client (see src/server/http/client-address.ts). */
  trustedProxies?: string[];
  /** Require a login with this password (see src/server/access.ts). */
  accessPassword?: string;
  /** Namespace mode on a network address: labs for anyone who asks, not only class members (`--open-labs`). */
  openLabs?: boolean;
  /** Namespace mode: serve clients in the cluster's pod network too (default: refused; `--allow-pod-clients`). */
  allowPodClients?: boolean;
  /** Namespace mode: most labs at once. */
  maxLabs?: number;
  /**
   * Namespace mode: open classes even where the cluster does not enforce
   * NetworkPolicy (`--accept-unenforced-network-policy`); the instructor page says so.
   */
  acceptUnenforcedNetworkPolicy?: boolean;
  /**
   * Namespace mode: what each learner's pods may reserve (`--learner-cpu`,
   * `--learner-memory`) instead of their share of the nodes (src/lab/share.ts).
   */
  learnerShare?: Partial<ComputeShare>;
  /** Open terminals per browser session. */
  maxTerminalsPerSession?: number;
  /** Namespace mode: new labs per client address per minute (also the burst). */
  labsPerMinute?: number;
  idleTimeoutMs?: number;
  onProgress?: (line: string) => void;
  log?: (line: string) => void;
  /** Build the lesson site first when dist/ is missing or stale (default true; tests without a browser may skip it). */
  buildSite?: boolean;
  /**
   * Once the cluster is up, give the server this nice (its session's and its thread's), so it
   * outranks the cluster and the learners' pods for a core (src/host/cpu-weight.ts).
   * `./kubelab start` and the class bench pass `serverNiceFromEnv()`; unset or 0 leaves it.
   */
  serverNice?: number;
  /** The progress store: a file or a postgres:// URL (default KUBELAB_STORE, else `<state>/lab-server/progress.db`; see src/store). */
  storePath?: string;
  /**
   * The clean-up sweep of kubelab namespaces the store knows no live owner of
   * (src/app/sweep.ts), at start and every `intervalMs`. Default off here;
   * `./kubelab start` turns it on (KUBELAB_SWEEP).
   */
  sweep?: { mode: SweepMode; intervalMs?: number } & Pick<SweepOptions, "only" | "minAgeMs" | "labLifetimeMs">;
  /** Also serve GET /metrics on this address alone, for a cluster's scraper (`--metrics-port`). */
  metricsAddress?: { host: string; port: number };
  /** The key that signs sessions (a mounted Secret, src/app/server-config.ts); default: the one kept in the store. */
  sessionKey?: Buffer;
  /** The registry the lab's images are pulled from (`--registry`); default: their own names (docker.io/kubelab/toolbox:3). */
  registry?: string;
}

export interface RunningKubelab {
  url: string;
  /** The access token every page asks for (the container without a password): print it with the URL. */
  accessToken?: string;
  labManager: LabManager;
  /** Attempts, learners and lab events (closed by `close`). */
  store: Store;
  /** Run one sweep now (as the schedule does); what it deleted (or would, in dry-run). Undefined when the sweep is off. */
  sweep?(): Promise<JudgedNamespace[]>;
  /** What /metrics serves. */
  metrics: KubelabMetrics;
  /** The scraper's own /metrics URL, when `metricsAddress` was given. */
  metricsUrl?: string;
  /** Mint a learner session (benchmarks that must know the lab's names first; see LabServer.issueSession). */
  issueSession(): { learnerId: string; cookieValue: string };
  close(): Promise<void>;
}

const DIST_DIR = resolve(import.meta.dirname, "../../dist");

const STARTER_FILES = {
  "README.txt":
    "This is your lab shell: kubectl talks to your own cluster.\n" +
    "Create the chapter's files here (vim job.yaml), then kubectl create -f job.yaml.\n" +
    "这是你的实验终端：kubectl 连接的是你自己的集群。在这里用 vim 创建章节中的文件，再用 kubectl create -f 创建对象。\n",
};

/**
 * The session key lives in the progress store, in both modes: a learner is a
 * session id only that key signs, so their record and the key that proves
 * the cookie must be kept (backed up, restored, shared by servers on one
 * PostgreSQL store) together. Cluster mode needs it now too: its lab is the
 * same for every session, but progress is the learner's. The first run seeds
 * it from the key file earlier versions kept for namespace mode, so those
 * cookies keep working. A key given in configuration (a Secret several
 * replicas or a restored store share) replaces the stored one.
 */
function sessionSecret(store: Store, given: Buffer | undefined): Promise<Buffer> {
  if (given) return Promise.resolve(given);
  return store.secret("session", () => {
    try {
      const old = readFileSync(join(defaultStateDir(), "lab-server", "session.key"));
      if (old.length === 32) return old;
    } catch {
      // none kept before
    }
    return randomBytes(32);
  });
}

/** The reference solution an exercise's manifest names first (labs/<id>/solution.sh). */
function solutionReader(): (exerciseId: string) => Promise<string | undefined> {
  let manifests: Map<string, string> | undefined;
  return async (exerciseId) => {
    manifests ??= new Map(loadExercises().map((m) => [m.id, join(m.dir, m.solutions[0] ?? "solution.sh")]));
    const file = manifests.get(exerciseId);
    if (!file) return undefined;
    try {
      return readFileSync(file, "utf8");
    } catch {
      return undefined;
    }
  };
}

/**
 * Labs outlive the server (namespace mode): take back the labs found in the
 * cluster whose owners the store knows, so a returning learner finds theirs
 * (same toolbox pod, same tmux session) and idle ones still expire. Labs
 * nobody here owns (another server's) are left alone, and so are labs of the
 * other mode: a namespace-mode server must not take over cluster mode's lab.
 */
async function adoptLabs(
  labManager: LabManager,
  store: Store,
  mode: IsolationMode,
  log: (line: string) => void,
): Promise<void> {
  const found = ((await labManager.findLabs?.()) ?? []).filter((id) => labIdIsOfMode(id, mode));
  for (const { sessionId, learner } of await store.labOwners(found)) {
    if (labManager.getLab(sessionId)) continue; // a class's, taken back already
    // The recorded id: a class lab came from its warm pool, not from the session's name.
    const lab = await labManager.ensureLab(sessionId, { labId: learner.labId });
    if (lab.id !== learner.labId) continue; // named by another scheme: ensureLab made the learner's own
    await store.recordEvent({ learnerId: learner.id, kind: "lab-adopted", labId: lab.id, mode });
    log(`lab ${lab.id}: adopted after a restart`);
  }
}

/** Bring up the cluster (idempotent) and serve kubelab; resolves once listening. */
export async function startKubelab(options: KubelabOptions): Promise<RunningKubelab> {
  const log = options.log ?? (() => {});
  const mode = options.mode ?? "cluster";
  const accessToken =
    options.inContainer && options.accessPassword === undefined && !isLoopbackBind(options.host)
      ? accessTokenIn(options.accessTokenFile ?? join(defaultStateDir(), "lab-server", "access-token"))
      : undefined;
  // Refuse an unsafe exposure before spending a minute on the cluster (the server takes this result).
  const exposure = checkServerExposure({ ...options, accessToken, mode });
  // A damaged, locked or read-only store fails now, with a hint, before the cluster's minute.
  const metrics = createMetrics();
  const store = instrumentStore(await openStore({ path: options.storePath, log, server: true }), metrics);
  try {
    return await serve({ ...options, accessToken }, store, log, mode, exposure, metrics);
  } catch (err) {
    await store.close();
    throw err;
  }
}

async function serve(
  options: KubelabOptions & { accessToken?: string },
  store: Store,
  log: (line: string) => void,
  mode: IsolationMode,
  exposure: ReturnType<typeof checkServerExposure>,
  metrics: KubelabMetrics,
): Promise<RunningKubelab> {
  // The site builds while the cluster comes up: both are needed before the URL is printed.
  const site = options.buildSite === false ? undefined : ensureSite({ onProgress: options.onProgress });
  site?.catch(() => {}); // awaited below; do not report it unhandled if the cluster fails first
  const info = await options.provider.up({ onProgress: options.onProgress, mode });
  if (options.serverNice) log(raiseServerCpuWeight(options.serverNice));
  await site;
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromFile(options.provider.kubeconfigPath());
  shareConnections(kubeConfig);
  // Namespace mode: learners' pods reach the API server at the `kubernetes` Service's endpoints,
  // followed while the server runs (src/lab/api-endpoints.ts).
  const labKube = createLabKube(kubeConfig);
  const apiFollower =
    mode === "namespace"
      ? followApiServerEndpoints({
          initial: await apiServerEndpoints(kubeConfig),
          read: () => apiServerEndpoints(kubeConfig),
          onChange: async (endpoints) => {
            const rewritten = await refreshApiEgress(kubeConfig, labKube, info.server, endpoints);
            log(`learners' policies follow the API server: ${rewritten} rewritten`);
          },
          log,
        })
      : undefined;
  const apiEndpoints = apiFollower?.current;

  const versionApi = kubeConfig.makeApiClient(VersionApi);
  const recorders = new RecorderPool({ kubeConfig, log });
  // Terminals: straight to the toolbox's agent where this process reaches pods (src/terminal/agent.ts).
  const viaApi = apiExecTransport({ exec: new Exec(kubeConfig), log });
  // A new toolbox's agent is reached as soon as it listens, its address learned from its container (src/lab/terminal-agent-address.ts).
  const agents = info.podNetworkReachable ? toolboxAgents(labKube, kubeExec(kubeConfig)) : undefined;
  const terminalTransport = agents ? agentTransport({ fallback: viaApi, locate: agents.locate, log }) : viaApi;
  // Namespace mode: a warm-pool lab gets its terminal opened while it waits (src/terminal/park.ts).
  const terminalPark = mode === "namespace" ? createTerminalPark({ transport: terminalTransport, log }) : undefined;
  // Made below, once the lab manager exists: a lab that goes takes its exam with it.
  const examsOfLabs: { service?: ExamService } = {};
  const labManager = createLabManager({
    kube: labKube,
    server: info.server,
    apiEndpoints,
    serverPods: info.serverPods,
    mode,
    toolboxImage: toolboxImageIn(options.registry),
    starterFiles: STARTER_FILES,
    // A solo learner's lab lives as long as the cluster: expiring it would
    // empty their `default` namespace. Class labs (namespace mode) expire.
    idleTimeoutMs: mode === "cluster" ? 0 : options.idleTimeoutMs,
    maxLabs: options.maxLabs,
    share: options.learnerShare,
    pollIntervalMs: 200,
    toolboxListening: agents?.listening,
    log,
    // Each lab's recorder lives as long as the lab: fresh after a reset, stopped when it is deleted or expires.
    // An expiry is the learner's history too: their progress page shows when the lab went.
    lifecycle: {
      ...recorders.labHooks(),
      ready: (lab, spare) => {
        if (spare)
          terminalPark?.park({ namespace: lab.toolboxNamespace, pod: lab.toolboxPod, container: lab.toolboxContainer });
      },
      deleted: async (lab) => {
        await recorders.labHooks().deleted(lab);
        // Not awaited: submitting grades for seconds, and the lab is gone already.
        void examsOfLabs.service?.labDeleted(lab);
      },
      expired: async (lab) => {
        const learner = await store.learnerForSession(lab.learnerId);
        if (learner) await store.recordEvent({ learnerId: learner.id, kind: "lab-expired", labId: lab.id, mode });
      },
    },
  });
  // In cluster mode every learner works in `default`: record it from the start,
  // so history-aware graders see what happened before the first Check.
  if (mode === "cluster") recorders.for("default");

  const stopCountingApiErrors = onApiServerError((verb, status) => metrics.apiServerError(verb, status));
  const exec = kubeExec(kubeConfig);
  const grade: GradeService = {
    has: (exerciseId) => graders.has(exerciseId),
    grade: (exerciseId, lab, locale) => {
      addLogContext({ lab: lab.id });
      return gradeExercise(
        exerciseId,
        createGradeContext({
          namespace: lab.namespace,
          recorder: recorders.for(lab.namespace).view,
          kubeConfig,
          exec,
          options: { nodeAccess: mode === "cluster" },
        }),
        locale,
        {
          // The Check panel shows what a check waits for and checks again itself (src/site/check-element.ts).
          answerWaits: true,
          // The learner reads "the grader ran into a problem"; the operator needs the why.
          onGraderError: (id, err) => log(`grading ${id} for lab ${lab.id} failed: ${(err as Error)?.stack ?? err}`),
        },
      );
    },
  };

  // Exams (src/exams/exam-service.ts): in namespace mode an attempt's task namespaces are the learner's lab's.
  const exams = createExamService({
    mode,
    store,
    kubeConfig,
    recorders,
    exec,
    labManager,
    server: info.server,
    apiEndpoints,
    log,
  });
  examsOfLabs.service = exams;

  const siteHandler = await createSiteHandler(DIST_DIR).catch((err) => {
    log(`site not served (${err instanceof Error ? err.message : err}); build it with \`./kubelab build\``);
    return undefined;
  });
  // Namespace mode: learners are kept apart by NetworkPolicy; prove the cluster enforces it, now and every 10 min.
  const networkPolicy =
    mode === "namespace"
      ? watchPolicyEnforcement(kubeConfig, {
          image: catalogImageIn(options.registry, BUSYBOX_IMAGE),
          accepted: options.acceptUnenforcedNetworkPolicy === true,
          log,
        })
      : undefined;
  void networkPolicy?.check();
  // Classes are namespace mode's: an instructor, join codes, warm pools, the live grid (src/class).
  const classes =
    mode === "namespace"
      ? createClassService({
          store,
          labManager,
          log,
          networkPolicy,
          submitExam: (id) => exams.sessions.submit(id, "en"),
        })
      : undefined;
  const instructor = classes
    ? createClassHttp({
        service: classes,
        store,
        labManager,
        terminalTransport,
        log,
        // The learners' key (another purpose): instructor sessions outlive a restart too.
        sessionSecret: await sessionSecret(store, options.sessionKey),
      })
    : undefined;
  // The workbench's cluster view: views of the recorders' shared watches, none of its own (src/workbench/cluster-view).
  const sharedView = recorders.sharedView();
  const server = createLabServer({
    health: createHealth({
      checks: {
        // A read by key: the store's file is open and answers (a closed or broken store throws).
        store: () => store.getLearner("readyz"),
        // /version is readable by every authenticated identity (system:public-info-viewer): no role needed.
        cluster: () => versionApi.getCode(),
      },
      log,
    }),
    clusterView: sharedView ? new ClusterViewFeeds({ watch: sharedView, log }) : undefined,
    instructor,
    terminalPark,
    labManager,
    grade,
    kubeConfig,
    terminalTransport,
    clusterInfo: info,
    siteHandler,
    allowedOrigins: options.allowedOrigins,
    allowedHosts: options.allowedHosts,
    accessPassword: options.accessPassword,
    accessToken: options.accessToken,
    openLabs: options.openLabs,
    exposure,
    // In a class, learners' pods reach this machine's addresses: none of them may reach the server.
    refuseClients: mode === "namespace" && info.podCidr && !options.allowPodClients ? [info.podCidr] : undefined,
    trustedProxies: options.trustedProxies,
    maxTerminalsPerSession: options.maxTerminalsPerSession,
    sessionSecret: await sessionSecret(store, options.sessionKey),
    store,
    solutions: solutionReader(),
    exams: createExamApi({
      sessions: exams.sessions,
      store,
      learner: (sid) => store.learnerForSession(sid),
      bodyLimit: 16 * 1024,
      toolboxKubeconfig: (lab) => kubeconfigYaml(labNames(lab.id, mode), info.server),
      ...(mode === "namespace"
        ? {
            labs: {
              get: (sid: string) => labManager.getLab(sid),
              keepUntil: (sid: string, deadline: Date) => labManager.extendLab?.(sid, deadline.getTime() - Date.now()),
            },
          }
        : {}),
    }),
    labCreationRate: options.labsPerMinute
      ? { burst: options.labsPerMinute, perMinute: options.labsPerMinute }
      : undefined,
    port: options.port,
    host: options.host,
    metrics,
    log,
  });
  // A class's labs first (with its labels and lifetime), then everyone else's.
  if (classes)
    await classes
      .resume()
      .catch((err) => log(`could not take back the classes' labs: ${err instanceof Error ? err.message : err}`));
  if (mode === "namespace")
    await adoptLabs(labManager, store, mode, log).catch((err) =>
      log(`could not adopt the labs in the cluster: ${err instanceof Error ? err.message : err}`),
    );
  // Exams that ran when the server stopped are submitted at their deadlines (past ones now).
  await exams.sessions
    .resume()
    .then((n) => n > 0 && log(`${n} running exam attempts: each is submitted at its deadline`))
    .catch((err) => log(`could not take back the running exams: ${err instanceof Error ? err.message : err}`));
  // After the classes' and learners' labs are taken back and the exams resumed: what is left has no owner.
  const sweepOptions: SweepOptions | undefined =
    options.sweep && options.sweep.mode !== "off"
      ? {
          kubeConfig,
          store,
          heldLabs: () => labManager.listLabs().map((l) => l.id),
          dryRun: options.sweep.mode === "dry-run",
          only: options.sweep.only,
          minAgeMs: options.sweep.minAgeMs,
          labLifetimeMs: options.sweep.labLifetimeMs,
          log,
        }
      : undefined;
  const sweeping = sweepOptions ? scheduleSweep({ ...sweepOptions, intervalMs: options.sweep?.intervalMs }) : undefined;
  const url = await server.listen();
  const scraper = options.metricsAddress ? await serveMetrics(metrics, options.metricsAddress) : undefined;
  metrics.observe({ store });
  // In cluster mode there is one lab for the machine: start it now, so the
  // first page load finds a shell ready instead of waiting for a pod.
  if (mode === "cluster") {
    labManager
      .ensureLab("local")
      .catch((err) => log(`could not pre-start the lab: ${err instanceof Error ? err.message : err}`));
  }
  return {
    url,
    accessToken: options.accessToken,
    labManager,
    store,
    metrics,
    metricsUrl: scraper?.url,
    sweep: sweepOptions && (() => sweepNamespaces(sweepOptions)),
    issueSession: () => server.issueSession(),
    close: async () => {
      sweeping?.close();
      apiFollower?.stop();
      await scraper?.close();
      stopCountingApiErrors();
      networkPolicy?.stop();
      await server.close();
      terminalPark?.close();
      exams.sessions.close();
      await labManager.shutdown();
      await recorders.stopAll();
      await store.close();
    },
  };
}
