/**
 * A route as a declared record: what it answers (method, path), who may call
 * it (auth), whether it needs the CSRF token, the shape of its body, and the
 * handler. The front door (front-door.ts) reads these fields and applies its
 * rules before a handler runs, so a handler only ever sees a request that
 * passed Host, access, Origin, session and CSRF, with a body already parsed
 * and validated (docs/architecture.md §8, "where to add a route").
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Duplex } from "node:stream";
import type { WebSocket } from "ws";
import type { ZodType } from "zod";

export type Method = "GET" | "POST" | "DELETE";

/**
 * Who may call a route, checked by the front door after Host, access and Origin:
 * - `public`: anyone past the Host and access rules (a learner session is read when there is one);
 * - `session`: a learner session this server issued (401 otherwise);
 * - `labs`: whoever may have a lab made (namespace mode on a network address:
 *   class members or holders of the access password, unless labs are open to all);
 * - `instructor`: a signed-in instructor (401 otherwise).
 */
export type Auth = "public" | "session" | "labs" | "instructor";

/** A signed-in instructor: the session id (its CSRF token is derived from it), their name and role (an admin acts on every class). */
export interface InstructorIdentity {
  sid: string;
  name: string;
  admin: boolean;
}

/** What the front door learned about the caller. */
export interface Caller {
  /** The learner session id, only when this server issued the cookie. */
  sessionId?: string;
  /** The signed-in instructor (routes with `auth: "instructor"`). */
  instructor?: InstructorIdentity;
}

export interface RouteContext<Body> extends Caller {
  req: IncomingMessage;
  res: ServerResponse;
  url: URL;
  /** The path's `:name` segments (each already matched against PARAM). */
  params: Record<string, string>;
  /** The body, parsed and validated by the route's schema (undefined for GET and DELETE). */
  body: Body;
  /** The request came over TLS (or an https proxy): cookies get `Secure`. */
  isSecure: boolean;
}

/** How a body is read: a JSON object checked by a zod schema, or a form (URLSearchParams). */
export type BodySpec<Body> = { json: ZodType<Body>; limit?: number; hint: string } | { form: true; limit?: number };

export interface Route<Body = unknown> {
  method: Method;
  /** `/api/instructor/classes/:classId/grid`: `:name` matches one segment of PARAM characters. */
  path: string;
  auth: Auth;
  /** True: the request must carry the caller's CSRF token (instructor routes' `X-Kubelab-CSRF`). */
  csrf: boolean;
  /** Required for POST: how the body is read and what it must look like. */
  body?: BodySpec<Body>;
  /** A page (HTML errors, login redirects) rather than an API route (JSON errors). */
  page?: boolean;
  /** The access rule does not apply (the access password's own login form). */
  beforeAccess?: boolean;
  handler(ctx: RouteContext<Body>): Promise<void> | void;
}

export interface UpgradeContext extends Caller {
  req: IncomingMessage;
  socket: Duplex;
  params: Record<string, string>;
  /** Complete the handshake on the server's one WebSocketServer. */
  accept(onSocket: (ws: WebSocket) => void): void;
}

/** A WebSocket endpoint: always behind Host, access, Origin (every upgrade) and its `auth`. */
export interface UpgradeRoute {
  path: string;
  auth: Exclude<Auth, "labs">;
  /** Refuse with a thrown KubelabError (its status and hint reach the client); else call `accept`. */
  handler(ctx: UpgradeContext): Promise<void> | void;
}

/** A typed route record (infers the handler's body from the schema). */
export const route = <Body>(r: Route<Body>): Route<Body> => r;
