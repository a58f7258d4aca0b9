/**
 * The access password: when configured, every page, API call and terminal
 * needs an access cookie, which only the login page hands out.
 *
 * - `/login` is the site's page src/pages/login.astro (English or Chinese by
 *   `?lang=` / Accept-Language), given what to show in `Astro.locals`; the
 *   password travels in a POST body, never in a URL.
 * - The password is kept only as an scrypt hash made at start; attempts are
 *   hashed the same way and compared with `timingSafeEqual`.
 * - Failed attempts are rate-limited per client address.
 * - The cookie is a token signed by this server run (sessions.ts), HttpOnly,
 *   SameSite=Lax, Secure behind TLS; the container token's with the store's
 *   key, so like the token it outlives a restart.
 *
 * - In the all-in-one container without a password, a random access token
 *   (kept in the state volume) takes the password's place, as Jupyter's
 *   does: it is the password, and a page's URL may also carry it
 *   (`/?token=…`, the URL `start` prints). Such a URL signs the browser in
 *   and redirects to itself without the token, so it stays out of the
 *   history and of Referer headers.
 *
 * `checkExposure` is the start-time rule: the cluster-admin lab (cluster
 * mode) is never served beyond loopback without a password or token.
 */
import { createHmac, randomBytes, scrypt, scryptSync, timingSafeEqual } from "node:crypto";
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import type { IncomingMessage, ServerResponse } from "node:http";
import { KubelabError } from "../errors.ts";
import type { IsolationMode } from "../lab/types.ts";
import { isLoopbackBind } from "./host-check.ts";
import { useUi } from "../i18n/ui/index.ts";
import { ACCESS_PAGE_LOCAL, LOGIN_PATH, type AccessLoginPage } from "../shared/access-page.ts";
import { HttpError, isApiPath, parseCookies, sendError, serializeCookie } from "./http-util.ts";
import { route, type Route } from "./http/route.ts";
import type { ClientAddressOf } from "./http/client-address.ts";
import { createRateLimiter, type RateLimitOptions } from "./rate-limit.ts";
import { createTokenIssuer } from "./sessions.ts";
import { pageLocale, showSitePage, type RenderPage } from "./site.ts";

export const ACCESS_COOKIE = "kubelab_access";
export { LOGIN_PATH };
/** Where a password may come from; named in hints, so keep in step with `start`. */
export const PASSWORD_ENV = "KUBELAB_ACCESS_PASSWORD";
export const PASSWORD_FILE_FLAG = "--access-password-file";
export const MIN_PASSWORD_LENGTH = 8;
/** The query parameter a page's URL carries the access token in. */
export const TOKEN_PARAM = "token";
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
  mode: IsolationMode;
  password?: string;
  /** The all-in-one container's access token (only made there, without a password): every page asks for it. */
  token?: string;
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
  // The token is printed with the URL; nobody without it gets past the login page.
  if (password === undefined && options.token !== undefined) return [];
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
  /** The access password, or the container's access token. */
  password: string;
  /** It is the access token: a page's URL may carry it (`?token=`), and the login page asks for a token. */
  isToken?: boolean;
  /** Renders the site's /login page (src/pages/login.astro). */
  render: RenderPage;
  /** Failed logins per client address. Default 10 at once, 10 per minute. */
  loginRate?: RateLimitOptions;
  /** Who a request comes from: the key `loginRate` counts by. */
  clientAddress: ClientAddressOf;
  /** The key signing access cookies. Default: a random one for this run. */
  secret?: Buffer;
  /** Access cookie lifetime. Default 12 hours (and, with the default `secret`, never beyond this server run). */
  maxAgeSeconds?: number;
  log?: (line: string) => void;
}

export interface AccessGate {
  /** True when the request carries a valid access cookie (upgrades: a URL token does not count). */
  allows(req: IncomingMessage): boolean;
  /**
   * The access rule for a request: resolves true to go on; otherwise the gate
   * has answered it (the login page, a 401, or the URL token's sign-in and
   * redirect to the same URL without it).
   */
  admit(req: IncomingMessage, res: ServerResponse, path: string, secure: boolean): Promise<boolean>;
  /** GET and POST /login (the only routes before the access rule). */
  readonly routes: Route<any>[];
  /** For a refused WebSocket upgrade. */
  readonly upgradeRefusal: { status: number; error: string; hint: string };
}

/**
 * The all-in-one container's access token, made once at first start and kept
 * in `file` (mode 0600, in the state volume), so `docker stop`/`start` keeps
 * the printed URL working. 32 random bytes, hex.
 */
export function accessTokenIn(file: string): string {
  try {
    const kept = readFileSync(file, "utf8").trim();
    if (/^[0-9a-f]{64}$/.test(kept)) return kept;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "ENOENT")
      throw new KubelabError(
        `cannot read the access token in ${file}: ${(err as Error).message}`,
        "Make the state volume readable by kubelab, or remove the file to have a new token made.",
      );
  }
  const token = randomBytes(32).toString("hex");
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  writeFileSync(file, `${token}\n`, { mode: 0o600 });
  chmodSync(file, 0o600); // a damaged file kept its own mode
  return token;
}

/**
 * The key that signs a password's access cookies: the session secret bound to
 * the password (HMAC), so a restart with the same secret keeps learners signed
 * in and a new password signs every one of them out.
 */
export function accessCookieKey(sessionSecret: Buffer, password: string): Buffer {
  return createHmac("sha256", sessionSecret).update(`kubelab access password\0${password}`).digest();
}

/** Only same-site absolute paths are followed after login (no open redirect). */
function safeNext(next: string | null | undefined): string {
  if (!next || next.length > 2000 || !/^\/(?![/\\])[^\s]*$/.test(next) || next.startsWith(LOGIN_PATH)) return "/";
  return next;
}

export function createAccessGate(options: AccessGateOptions): AccessGate {
  const log = options.log ?? (() => {});
  const isToken = options.isToken === true;
  const salt = randomBytes(16);
  const hash = scryptSync(options.password, salt, SCRYPT_KEY_BYTES);
  const tokens = createTokenIssuer({
    purpose: "access",
    secret: options.secret,
    maxAgeSeconds: options.maxAgeSeconds ?? 12 * 3600,
  });
  const limiter = createRateLimiter(options.loginRate ?? { burst: 10, perMinute: 10 });
  const what = isToken ? "token" : "password";

  /** The login page, in the request's language, with what went wrong. */
  function loginPage(
    req: IncomingMessage,
    res: ServerResponse,
    status: number,
    next: string,
    error?: (t: ReturnType<typeof useUi>) => string,
    headers?: Record<string, string>,
  ) {
    const locale = pageLocale(req);
    const page: AccessLoginPage = { locale, status, next, secret: what, error: error?.(useUi(locale)) };
    // The site renders the page its URL names: a refused page or token URL is answered with /login's.
    req.url = `${LOGIN_PATH}?lang=${locale}`;
    showSitePage(options.render, req, res, { [ACCESS_PAGE_LOCAL]: page }, headers);
  }

  const passwordMatches = (attempt: string) =>
    new Promise<boolean>((resolve, reject) => {
      scrypt(attempt, salt, SCRYPT_KEY_BYTES, (err, key) => (err ? reject(err) : resolve(timingSafeEqual(key, hash))));
    });

  const refusal = {
    status: 401,
    error: `sign in first: this server asks for an access ${what}`,
    hint: isToken
      ? `Open the URL with ?${TOKEN_PARAM}= that the server printed at start (docker logs shows it again), then reload the lesson.`
      : `Open ${LOGIN_PATH} on this server, enter the password, then reload the lesson.`,
  };

  const allows = (req: IncomingMessage) =>
    tokens.verify(parseCookies(req.headers.cookie).get(ACCESS_COOKIE)) !== undefined;

  /**
   * One sign-in attempt, from the login form or a URL's token: rate-limited per
   * client address, compared in constant time. On success, the access cookie
   * and a redirect to `next`; otherwise the login page (429 or 401).
   */
  async function signIn(req: IncomingMessage, res: ServerResponse, attempt: string, next: string, secure: boolean) {
    const address = options.clientAddress(req);
    const wait = limiter.take(address);
    if (wait > 0) {
      log(`login: too many failed attempts from ${address}`);
      return loginPage(req, res, 429, next, (t) => t("access.login.slow", { seconds: wait }), {
        "retry-after": String(wait),
      });
    }
    if (!(await passwordMatches(attempt))) {
      log(`login: wrong ${what} from ${address}`);
      return loginPage(req, res, 401, next, (t) =>
        t(isToken ? "access.login.wrongToken" : "access.login.wrongPassword"),
      );
    }
    limiter.refund(address);
    const token = tokens.issue();
    res.writeHead(303, {
      location: next,
      "set-cookie": serializeCookie(ACCESS_COOKIE, token.value, { secure, maxAgeSeconds: tokens.maxAgeSeconds }),
      "cache-control": "no-store",
      "content-length": 0,
    });
    res.end();
  }

  function deny(req: IncomingMessage, res: ServerResponse, path: string) {
    const method = req.method ?? "GET";
    req.resume();
    if (isApiPath(path)) return sendError(res, new HttpError(401, refusal.error, refusal.hint));
    if (method === "GET" || method === "HEAD") {
      const next = safeNext(req.url);
      res.writeHead(303, {
        location: `${LOGIN_PATH}?next=${encodeURIComponent(next)}`,
        "cache-control": "no-store",
        "content-length": 0,
      });
      return void res.end();
    }
    loginPage(req, res, 401, "/");
  }

  return {
    allows,
    upgradeRefusal: refusal,

    async admit(req, res, path, secure) {
      const url = new URL(req.url ?? "/", "http://localhost");
      const attempt =
        isToken && !isApiPath(path) && (req.method === "GET" || req.method === "HEAD")
          ? url.searchParams.get(TOKEN_PARAM)
          : null;
      if (attempt === null) {
        if (allows(req)) return true;
        deny(req, res, path);
        return false;
      }
      // A URL with the token: sign in (even with a cookie), then the same URL without it.
      req.resume();
      url.searchParams.delete(TOKEN_PARAM);
      await signIn(req, res, attempt, safeNext(url.pathname + url.search), secure);
      return false;
    },

    routes: [
      route({
        method: "GET",
        path: LOGIN_PATH,
        auth: "public",
        csrf: false,
        beforeAccess: true,
        handler: ({ req, res, url }) => loginPage(req, res, 200, safeNext(url.searchParams.get("next"))),
      }),
      route<URLSearchParams>({
        method: "POST",
        path: LOGIN_PATH,
        auth: "public",
        csrf: false,
        beforeAccess: true,
        body: { form: true },
        handler: ({ req, res, body: form, isSecure }) =>
          signIn(req, res, form.get("password") ?? "", safeNext(form.get("next")), isSecure),
      }),
    ],
  };
}
