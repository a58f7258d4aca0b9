/**
 * The one logger (src/logger.ts): JSON lines with time, level, msg and the
 * request's context; text lines as before; and no secret survives, by key,
 * at any depth, however a caller passes it.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { createLogger, parseLogFormat, REDACTED, redact, withLogContext } from "../../src/logger.ts";

function capture(format: "json" | "text", level?: "debug" | "info") {
  const lines: string[] = [];
  const log = createLogger({ format, level, write: (l) => lines.push(l), now: () => new Date(0) });
  return { log, lines, events: () => lines.map((l) => JSON.parse(l) as Record<string, unknown>) };
}

describe("logger", () => {
  test("JSON: one line per event with time, level, msg, the request's id and the lab a lab line names", async () => {
    const { log, lines, events } = capture("json");
    await withLogContext({ requestId: "r-123" }, async () => {
      await Promise.resolve();
      log.line("lab 0a1b2c3d4e: adopted after a restart");
      log.warn("grading failed", { learner: "L42" });
    });
    log.line("could not pre-start the lab: timeout");
    assert.equal(lines.length, 3);
    assert.ok(lines.every((l) => !l.includes("\n")));
    const [a, b, c] = events();
    assert.deepEqual(a, {
      time: "1970-01-01T00:00:00.000Z",
      level: "info",
      msg: "lab 0a1b2c3d4e: adopted after a restart",
      lab: "0a1b2c3d4e",
      requestId: "r-123",
    });
    assert.equal(b!.level, "warn");
    assert.equal(b!.learner, "L42");
    assert.equal(b!.requestId, "r-123");
    assert.equal(c!.level, "warn", "a line that says something failed is a warning");
    assert.equal(c!.requestId, undefined, "the context ends with its request");
  });

  test("no password, token, cookie or session id reaches a line, at any depth", () => {
    const { log, lines } = capture("json");
    const secrets = {
      password: "hunter2-pass",
      accessToken: "tok-abc",
      cookie: "kubelab_sid=s3cr3t",
      sessionId: "sess-xyz",
      sid: "sid-123",
      headers: { authorization: "Bearer bear-1", "set-cookie": "a=b-cookie", "x-kubelab-csrf": "csrf-9" },
      nested: [{ session_secret: "deep-1", ok: "visible-ok" }],
    };
    log.error("login failed", secrets);
    withLogContext({ sessionId: "ctx-sess" }, () => log.info("in context"));
    const text = lines.join("\n");
    for (const secret of [
      "hunter2-pass",
      "tok-abc",
      "s3cr3t",
      "sess-xyz",
      "sid-123",
      "bear-1",
      "b-cookie",
      "csrf-9",
      "deep-1",
      "ctx-sess",
    ])
      assert.ok(!text.includes(secret), `${secret} leaked: ${text}`);
    assert.ok(text.includes("visible-ok"), "other fields stay");
    assert.ok(text.includes(REDACTED));
    assert.deepEqual(redact({ a: { token: 1 } }), { a: { token: REDACTED } });
  });

  test("text keeps the `[kubelab] ` lines, levels below the minimum are dropped", () => {
    const { log, lines } = capture("text");
    log.info("listening");
    log.debug("noise");
    log.error("broken", { password: "x" });
    assert.deepEqual(lines, ["[kubelab] listening", "[kubelab] error: broken"]);
  });

  test("KUBELAB_LOG: text on a terminal, JSON otherwise, and a wrong value refused with a hint", () => {
    assert.equal(parseLogFormat(undefined, true), "text");
    assert.equal(parseLogFormat(undefined, false), "json");
    assert.equal(parseLogFormat("text", false), "text");
    assert.throws(
      () => parseLogFormat("yaml", true),
      (err: { message: string; hint?: string }) =>
        /not a log format/.test(err.message) && /KUBELAB_LOG=json or KUBELAB_LOG=text/.test(err.hint ?? ""),
    );
  });
});
