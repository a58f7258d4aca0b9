/**
 * One feature's route records served bare, for unit tests of that feature:
 * the router's matching, body validation and the handler, with the caller
 * given by `callerOf` instead of the front door's Host/access/Origin/session
 * rules (those are tested on the real server, tests/security/front-door-walk.test.ts).
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { KubelabError } from "../../src/errors.ts";
import type { Caller, Route } from "../../src/server/http/route.ts";
import { createRouter, runRoute } from "../../src/server/http/router.ts";
import { sendError } from "../../src/server/http-util.ts";

export function dispatchRoutes(routes: Route<any>[], callerOf: (req: IncomingMessage) => Caller) {
  const router = createRouter(routes);
  return (req: IncomingMessage, res: ServerResponse) => {
    const path = new URL(req.url ?? "/", "http://localhost").pathname;
    const fail = (err: unknown) =>
      sendError(res, err instanceof KubelabError ? err : new KubelabError(String((err as Error)?.message ?? err)));
    try {
      const match = router.find(req.method ?? "GET", path);
      if (!match) return void res.writeHead(404).end();
      runRoute(match, req, res, callerOf(req)).catch(fail);
    } catch (err) {
      fail(err);
    }
  };
}
