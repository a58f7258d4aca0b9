/**
 * The route table (src/server/http/router.ts): literal and `:param`
 * segments, 405 with `Allow` from the table, HEAD answered by GET, params
 * that cannot carry traversal, and records that cannot be registered wrong.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { z } from "zod";
import { HttpError } from "../../src/server/http-util.ts";
import { route, type Route } from "../../src/server/http/route.ts";
import { createRouter, validateBody } from "../../src/server/http/router.ts";

const noop = () => {};
const r = (method: Route["method"], path: string, extra: Partial<Route<any>> = {}): Route<any> =>
  route({
    method,
    path,
    auth: "public",
    csrf: false,
    handler: noop,
    ...(method === "POST" ? { body: { json: z.looseObject({}), hint: "h" } } : {}),
    ...extra,
  });

describe("router", () => {
  const router = createRouter(
    [
      r("GET", "/api/lab"),
      r("POST", "/api/lab"),
      r("DELETE", "/api/lab"),
      r("GET", "/api/c/:classId/learners/:learnerId"),
    ],
    [{ path: "/api/lab/terminal", auth: "session", handler: noop }],
  );

  it("matches literals and params, and answers HEAD with the GET route", () => {
    assert.equal(router.find("POST", "/api/lab")?.entry.method, "POST");
    assert.equal(router.find("HEAD", "/api/lab")?.entry.method, "GET");
    assert.deepEqual(router.find("GET", "/api/c/abc/learners/L-1_2")?.params, { classId: "abc", learnerId: "L-1_2" });
    assert.equal(router.find("GET", "/api/nope"), undefined);
    assert.equal(router.findUpgrade("/api/lab/terminal")?.entry.path, "/api/lab/terminal");
    assert.equal(router.knows("/api/lab/terminal"), true);
  });

  it("a known path with another method is 405 with Allow from the table", () => {
    assert.throws(
      () => router.find("PUT", "/api/lab"),
      (err: unknown) => err instanceof HttpError && err.status === 405 && err.headers?.allow === "GET, POST, DELETE",
    );
  });

  it("a param never matches dots, encoded separators or empty segments", () => {
    for (const path of [
      "/api/c/../learners/x",
      "/api/c/a%2Fb/learners/x",
      "/api/c/a.b/learners/x",
      `/api/c/${"a".repeat(65)}/learners/x`,
    ])
      assert.equal(router.find("GET", path), undefined, path);
  });

  it("refuses a route registered twice, or a POST without a body spec", () => {
    assert.throws(() => createRouter([r("GET", "/x"), r("GET", "/x")]), /registered twice/);
    assert.throws(() => createRouter([r("POST", "/x", { body: undefined })]), /no body spec/);
  });

  it("a body that fails its schema is 400 with the schema's message and the route's hint", () => {
    const withSchema = r("POST", "/y", {
      body: { json: z.object({ n: z.number({ error: '"n" must be a number' }) }), hint: "Send {n}." },
    });
    assert.deepEqual(validateBody(withSchema, { n: 1 }), { n: 1 });
    assert.throws(
      () => validateBody(withSchema, { n: "1" }),
      (err: unknown) =>
        err instanceof HttpError &&
        err.status === 400 &&
        /"n" must be a number/.test(err.message) &&
        err.hint === "Send {n}.",
    );
  });
});
