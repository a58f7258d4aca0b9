/**
 * The access password: when configured, every page, API call and terminal
 * needs an access cookie, which only the login page hands out.
 *
 * - `/login` is a plain server-rendered form (English and Chinese); the
 *   password travels in a POST body, never in a URL.
 * - The password is kept only as an scrypt hash made at start; attempts are
 *   hashed the same way and compared with `timingSafeEqual`.
 * - Failed attempts are rate-limited per client address.
 * - The cookie is a token signed by this server run (sessions.ts), HttpOnly,
 *   SameSite=Lax, Secure behind TLS.
 *
 * `checkExposure` is the start-time rule: the cluster-admin lab (cluster
 * mode) is never served beyond loopback without a password.
 */
import { randomBytes, scrypt, scryptSync, timingSafeEqual } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import { KubelabError } from "../errors.ts";
import type { IsolationMode } from "../lab/types.ts";
import { isLoopbackBind } from "./host-check.ts";
import { escapeHtml, HttpError, htmlPage, parseCookies, sendError, sendHtml, serializeCookie } from "./http-util.ts";
import { route, type Route } from "./http/route.ts";
import { clientAddress, createRateLimiter, type RateLimitOptions } from "./rate-limit.ts";
import { createTokenIssuer } from "./sessions.ts";

export const ACCESS_COOKIE = "kubelab_access";
export const LOGIN_PATH = "/login";
/** Where a password may come from; named in hints, so keep in step with `start`. */
export const PASSWORD_ENV = "KUBELAB_ACCESS_PASSWORD";
export const PASSWORD_FILE_FLAG = "--access-password-file";
export const MIN_PASSWORD_LENGTH = 8;
/** Namespace mode on a network address: labs for anyone, not only class members (named in the warning). */
export const OPEN_LABS_FLAG = "--open-labs";

const SCRYPT_KEY_BYTES = 32;

/**
 * The start-time rule for where the server may listen. Throws a KubelabError
 * (with a hint) for cluster mode on a non-loopback address without a
 * password; otherwise returns warnings to print (empty on loopback).
 */
export function checkExposure(options: {
  host?: string;
  /** The host is the all-in-one container's: the port it publishes decides the exposure of cluster mode. */
  inContainer?: boolean;
  mode: IsolationMode;
  password?: string;
  openLabs?: boolean;
}): string[] {
  const { host, mode, password } = options;
  if (password !== undefined && password.length < MIN_PASSWORD_LENGTH) {
    throw new KubelabError(
      `the access password is too short (${password.length} characters, at least ${MIN_PASSWORD_LENGTH})`,
      `Choose a longer one in ${PASSWORD_ENV} or the file given to ${PASSWORD_FILE_FLAG}.`,
    );
  }
  if (isLoopbackBind(host)) return [];
  if (options.inContainer && mode === "cluster" && password === undefined) {
    return [
      `Listening on ${host} in the container: publish the port on the host's loopback only (docker run -p 127.0.0.1:4321:4321), or set ${PASSWORD_ENV} before publishing it on a network address.`,
    ];
  }
  if (mode === "cluster" && password === undefined) {
    throw new KubelabError(
      `refusing to serve the cluster-admin lab on ${host} without an access password: anyone who can reach this address would get a root shell on this machine`,
      `Set ${PASSWORD_ENV} (or pass ${PASSWORD_FILE_FLAG} FILE, "-" for stdin) to require a login, or leave out --host to serve on 127.0.0.1 only.`,
    );
  }
  const warnings = [
    `WARNING: listening on ${host}, reachable from the network, over plain HTTP (put a TLS proxy in front for anything beyond a trusted LAN).`,
  ];
  if (password !== undefined) warnings.push(`Every page asks for the access password first (${LOGIN_PATH}).`);
  else if (options.openLabs)
    warnings.push(
      `No access password and ${OPEN_LABS_FLAG}: anyone who can reach this address can create a lab (rate-limited per address). Set ${PASSWORD_ENV} to require a login.`,
    );
  else
    warnings.push(
      `No access password: labs are made only for the members of a class (who join at /join). ${OPEN_LABS_FLAG} makes them self-serve for anyone who can reach this address; ${PASSWORD_ENV} requires a login instead.`,
    );
  return warnings;
}

export interface AccessGateOptions {
  password: string;
  /** Failed logins per client address. Default 10 at once, 10 per minute. */
  loginRate?: RateLimitOptions;
  /** Access cookie lifetime. Default 12 hours (and never beyond this server run). */
  maxAgeSeconds?: number;
  log?: (line: string) => void;
}

export interface AccessGate {
  /** True when the request carries a valid access cookie. */
  allows(req: IncomingMessage): boolean;
  /** GET and POST /login (the only routes before the access rule). */
  readonly routes: Route<any>[];
  /** Answer a request that has no access: page loads go to the login page, the rest get 401. */
  deny(req: IncomingMessage, res: ServerResponse, path: string): void;
  /** For a refused WebSocket upgrade. */
  readonly upgradeRefusal: { status: number; error: string; hint: string };
}

/** Only same-site absolute paths are followed after login (no open redirect). */
function safeNext(next: string | null | undefined): string {
  if (!next || next.length > 2000 || !/^\/(?![/\\])[^\s]*$/.test(next) || next.startsWith(LOGIN_PATH)) return "/";
  return next;
}

function loginPage(next: string, message?: { en: string; zh: string }): string {
  const error = message
    ? `<p role="alert" style="color:#b00020">${escapeHtml(message.en)}<br>${escapeHtml(message.zh)}</p>`
    : "";
  return htmlPage(
    "kubelab: sign in / 登录",
    `<h1>kubelab</h1>
<p>This lab server asks for its access password. Your instructor (or whoever started it) has it.<br>
这个实验服务器需要访问密码，请向讲师（或启动它的人）索取。</p>
${error}
<form method="post" action="${LOGIN_PATH}">
<input type="hidden" name="next" value="${escapeHtml(next)}">
<p><label>Access password / 访问密码<br>
<input type="password" name="password" autocomplete="current-password" required autofocus style="font:inherit;padding:.3em;width:20em;max-width:100%"></label></p>
<p><button type="submit" style="font:inherit;padding:.3em 1.2em">Sign in / 登录</button></p>
</form>`,
  );
}

export function createAccessGate(options: AccessGateOptions): AccessGate {
  const log = options.log ?? (() => {});
  const salt = randomBytes(16);
  const hash = scryptSync(options.password, salt, SCRYPT_KEY_BYTES);
  const tokens = createTokenIssuer({ purpose: "access", maxAgeSeconds: options.maxAgeSeconds ?? 12 * 3600 });
  const limiter = createRateLimiter(options.loginRate ?? { burst: 10, perMinute: 10 });

  const passwordMatches = (attempt: string) =>
    new Promise<boolean>((resolve, reject) => {
      scrypt(attempt, salt, SCRYPT_KEY_BYTES, (err, key) => (err ? reject(err) : resolve(timingSafeEqual(key, hash))));
    });

  const refusal = {
    status: 401,
    error: "sign in first: this server asks for an access password",
    hint: `Open ${LOGIN_PATH} on this server, enter the password, then reload the lesson.`,
  };

  return {
    allows(req) {
      return tokens.verify(parseCookies(req.headers.cookie).get(ACCESS_COOKIE)) !== undefined;
    },

    upgradeRefusal: refusal,

    deny(req, res, path) {
      const method = req.method ?? "GET";
      req.resume();
      if (path === "/api" || path.startsWith("/api/"))
        return sendError(res, new HttpError(401, refusal.error, refusal.hint));
      if (method === "GET" || method === "HEAD") {
        const next = safeNext(req.url);
        res.writeHead(303, {
          location: `${LOGIN_PATH}?next=${encodeURIComponent(next)}`,
          "cache-control": "no-store",
          "content-length": 0,
        });
        return void res.end();
      }
      sendHtml(res, 401, loginPage("/"));
    },

    routes: [
      route({
        method: "GET",
        path: LOGIN_PATH,
        auth: "public",
        csrf: false,
        beforeAccess: true,
        handler: ({ res, url }) => sendHtml(res, 200, loginPage(safeNext(url.searchParams.get("next")))),
      }),
      route<URLSearchParams>({
        method: "POST",
        path: LOGIN_PATH,
        auth: "public",
        csrf: false,
        beforeAccess: true,
        body: { form: true },
        async handler({ req, res, body: form, isSecure }) {
          const address = clientAddress(req.socket);
          const wait = limiter.take(address);
          if (wait > 0) {
            log(`login: too many failed attempts from ${address}`);
            return sendHtml(
              res,
              429,
              loginPage("/", {
                en: `Too many attempts. Wait ${wait} s, then try again.`,
                zh: `尝试次数过多，请等待 ${wait} 秒后再试。`,
              }),
              { "retry-after": String(wait) },
            );
          }
          const next = safeNext(form.get("next"));
          if (!(await passwordMatches(form.get("password") ?? ""))) {
            log(`login: wrong password from ${address}`);
            return sendHtml(res, 401, loginPage(next, { en: "That password is not right.", zh: "密码不正确。" }));
          }
          limiter.refund(address);
          const token = tokens.issue();
          res.writeHead(303, {
            location: next,
            "set-cookie": serializeCookie(ACCESS_COOKIE, token.value, {
              secure: isSecure,
              maxAgeSeconds: tokens.maxAgeSeconds,
            }),
            "cache-control": "no-store",
            "content-length": 0,
          });
          res.end();
        },
      }),
    ],
  };
}
