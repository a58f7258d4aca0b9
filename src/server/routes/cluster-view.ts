/**
 * The workbench's live cluster view of the learner's lab namespace:
 *   GET /api/lab/cluster-view?locale=&namespace=   Server-Sent Events: first
 *       `event: namespaces` (those this session may view), then each `data:` a ClusterViewFrame
 * Fed by src/workbench/cluster-view/feed.ts from the server's shared watches (no
 * watch of its own per viewer). Only the session's own lab namespace, as the
 * other lab routes, and while its exam runs that exam's task namespaces; at
 * most MAX_VIEWERS_PER_SESSION open per session; a slow page gets the latest
 * frame when it has read the last one, never a queue.
 */
import type { ServerResponse } from "node:http";
import type { LabManager } from "../../lab/types.ts";
import { LOCALES, type Locale } from "../../shared/contract.ts";
import { CLUSTER_VIEW_PATH, MAX_VIEWERS_PER_SESSION, type ClusterViewFrame } from "../../shared/cluster-view.ts";
import type { ClusterViewFeeds } from "../../workbench/cluster-view/feed.ts";
import { route, type Route } from "../http/route.ts";
import { HttpError } from "../http-util.ts";

export interface ClusterViewRoutesDeps {
  labManager: Pick<LabManager, "getLab" | "touch">;
  feeds: ClusterViewFeeds;
  /** The task namespaces of the session's running exam (none without one). */
  examNamespaces?(sessionId: string): Promise<string[]>;
  maxViewersPerSession?: number;
  /** Comment lines that keep proxies from closing a quiet stream. */
  pingMs?: number;
}

export function clusterViewRoutes(deps: ClusterViewRoutesDeps): Route<any>[] {
  const maxViewers = deps.maxViewersPerSession ?? MAX_VIEWERS_PER_SESSION;
  /** Open views per session id; entries go when they reach 0. */
  const open = new Map<string, number>();

  function stream(
    res: ServerResponse,
    view: { namespace: string; allowed: string[]; locale: Locale },
    onClose: () => void,
  ) {
    const { namespace, locale } = view;
    res.writeHead(200, {
      "content-type": "text/event-stream; charset=utf-8",
      "cache-control": "no-store",
      connection: "keep-alive",
      "x-accel-buffering": "no",
    });
    res.write(`: kubelab cluster view\n\nevent: namespaces\ndata: ${JSON.stringify(view.allowed)}\n\n`);
    // Backpressure: while the socket has not drained, only the newest frame is kept.
    let pending: ClusterViewFrame | undefined;
    const send = (frame: ClusterViewFrame) => {
      if (res.writableNeedDrain) return void (pending = frame);
      res.write(`data: ${JSON.stringify(frame)}\n\n`);
    };
    res.on("drain", () => {
      const frame = pending;
      pending = undefined;
      if (frame) send(frame);
    });
    const off = deps.feeds.subscribe(namespace, send, locale);
    const ping = setInterval(() => res.write(": ping\n\n"), deps.pingMs ?? 20_000);
    // The response's close, not the request's: a GET's request closes as soon as its (empty) body is read.
    res.on("close", () => {
      clearInterval(ping);
      void off();
      onClose();
    });
  }

  return [
    route({
      method: "GET",
      path: CLUSTER_VIEW_PATH,
      auth: "session",
      csrf: false,
      async handler({ res, url, sessionId }) {
        const sid = sessionId!;
        const lab = deps.labManager.getLab(sid);
        if (!lab)
          throw new HttpError(409, "there is no lab for this session", "Reload the lesson page: it starts your lab.");
        const allowed = [lab.namespace, ...((await deps.examNamespaces?.(sid)) ?? [])];
        const asked = url.searchParams.get("namespace") ?? lab.namespace;
        if (!allowed.includes(asked))
          throw new HttpError(
            403,
            `namespace "${asked.slice(0, 63)}" is not this session's to view`,
            `View ${allowed.join(", ")}.`,
          );
        const count = open.get(sid) ?? 0;
        if (count >= maxViewers)
          throw new HttpError(
            429,
            `this session already has ${count} cluster views open (the limit is ${maxViewers})`,
            "Close the cluster view in other tabs or windows, then open it here again.",
          );
        open.set(sid, count + 1);
        deps.labManager.touch(sid);
        const language = url.searchParams.get("locale");
        const locale = LOCALES.find((l) => l === language) ?? "en";
        stream(res, { namespace: asked, allowed, locale }, () => {
          const left = (open.get(sid) ?? 1) - 1;
          if (left > 0) open.set(sid, left);
          else open.delete(sid);
        });
      },
    }),
  ];
}
