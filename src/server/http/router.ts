/**
 * The route table: path matching, 405 with `Allow` from the table, and the
 * request's body read and validated before a handler runs.
 *
 * In-house rather than a library (find-my-way, …): the table is about thirty
 * routes, static segments plus `:param` segments of one fixed character set;
 * matching them is a loop over segments, and the part that matters here
 * (the front door's rules, typed bodies) no router provides. A dependency
 * would add a matching language (wildcards, regex params, versioning) that
 * nothing here needs and every reviewer would have to know.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { KubelabError } from "../../errors.ts";
import { HttpError, readBody, readJsonBody } from "../http-util.ts";
import type { Caller, Method, Route, UpgradeRoute } from "./route.ts";

/** What a `:param` segment may hold: ids, never `.`, `/` or `%` (so no traversal survives matching). */
export const PARAM = /^[A-Za-z0-9_-]{1,64}$/;
/** Default JSON body limit. */
export const BODY_LIMIT = 16 * 1024;

type Segment = { literal: string } | { param: string };

function compile(path: string): Segment[] {
  return path
    .split("/")
    .filter(Boolean)
    .map((s) => (s.startsWith(":") ? { param: s.slice(1) } : { literal: s }));
}

function matchPath(segments: Segment[], path: string): Record<string, string> | undefined {
  const parts = path.split("/").filter(Boolean);
  if (parts.length !== segments.length) return undefined;
  const params: Record<string, string> = {};
  for (let i = 0; i < parts.length; i++) {
    const s = segments[i];
    if ("literal" in s) {
      if (s.literal !== parts[i]) return undefined;
    } else {
      if (!PARAM.test(parts[i])) return undefined;
      params[s.param] = parts[i];
    }
  }
  return params;
}

export interface Match<T> {
  entry: T;
  params: Record<string, string>;
}

export interface Router {
  /** Every route and upgrade, as registered (the front-door test walks these). */
  readonly routes: readonly Route<any>[];
  readonly upgrades: readonly UpgradeRoute[];
  /**
   * The route for a request; undefined when no route has this path; an
   * HttpError 405 (with Allow) when some do, but not for this method.
   * HEAD is answered by the GET route.
   */
  find(method: string, path: string): Match<Route<any>> | undefined;
  findUpgrade(path: string): Match<UpgradeRoute> | undefined;
  /** True when some route or upgrade has this path (any method). */
  knows(path: string): boolean;
}

export function createRouter(routes: readonly Route<any>[], upgrades: readonly UpgradeRoute[] = []): Router {
  const table = routes.map((r) => ({ entry: r, segments: compile(r.path) }));
  const upgradeTable = upgrades.map((u) => ({ entry: u, segments: compile(u.path) }));
  const seen = new Set<string>();
  for (const r of routes) {
    const key = `${r.method} ${r.path}`;
    if (seen.has(key)) throw new KubelabError(`route ${key} is registered twice`, "Give each route one record.");
    seen.add(key);
    if (r.method === "POST" && !r.body)
      throw new KubelabError(`route ${key} has no body spec`, "Every POST route declares how its body is read.");
  }
  const matches = <T>(t: { entry: T; segments: Segment[] }[], path: string) =>
    t.flatMap((x) => {
      const params = matchPath(x.segments, path);
      return params ? [{ entry: x.entry, params }] : [];
    });
  return {
    routes,
    upgrades,
    find(method, path) {
      const found = matches(table, path);
      if (!found.length) return undefined;
      const wanted = (method === "HEAD" ? "GET" : method) as Method;
      const hit = found.find((m) => m.entry.method === wanted);
      if (hit) return hit;
      const allow = [...new Set(found.map((m) => m.entry.method))];
      throw new HttpError(405, "method not allowed", `Use ${allow.join(" or ")}.`, { allow: allow.join(", ") });
    },
    findUpgrade: (path) => matches(upgradeTable, path)[0],
    knows: (path) => matches(table, path).length > 0 || matches(upgradeTable, path).length > 0,
  };
}

/**
 * Read the body a route declares, bounded (413), of the declared type (415)
 * and well-formed (400), without judging its fields yet. A route without a
 * spec gets its body drained.
 */
export async function readRouteBody(route: Route<any>, req: IncomingMessage): Promise<unknown> {
  const spec = route.body;
  if (!spec) {
    req.resume();
    return undefined;
  }
  if ("form" in spec) {
    const type = String(req.headers["content-type"] ?? "");
    if (!/^application\/x-www-form-urlencoded\b/i.test(type)) {
      req.resume();
      throw new HttpError(415, `expected a form, got content-type "${type || "none"}"`, "Use the form on the page.");
    }
    return new URLSearchParams((await readBody(req, spec.limit ?? 4096)).toString("utf8"));
  }
  return readJsonBody(req, spec.limit ?? BODY_LIMIT);
}

/** Check a read body against the route's schema (400 with the route's hint); the parsed value. */
export function validateBody(route: Route<any>, raw: unknown): unknown {
  const spec = route.body;
  if (!spec || "form" in spec) return raw;
  const parsed = spec.json.safeParse(raw);
  if (parsed.success) return parsed.data;
  throw new HttpError(400, parsed.error.issues[0]?.message ?? "the body is not what this route takes", spec.hint);
}

/**
 * Run a matched route for a caller the front door established: the body
 * (read already, or now) validated first, then the handler. Errors are the caller's to answer.
 */
export async function runRoute(
  match: Match<Route<any>>,
  req: IncomingMessage,
  res: ServerResponse,
  caller: Caller,
  options: { isSecure?: boolean; raw?: { body: unknown } } = {},
): Promise<void> {
  const raw = options.raw ?? { body: await readRouteBody(match.entry, req) };
  const body = validateBody(match.entry, raw.body);
  await match.entry.handler({
    ...caller,
    req,
    res,
    url: new URL(req.url ?? "/", "http://localhost"),
    params: match.params,
    body,
    isSecure: options.isSecure ?? false,
  });
}
