import assert from "node:assert/strict";
import { afterEach, describe, it } from "node:test";
import { API } from "../../src/shared/contract.ts";
import {
  apiRequest,
  createLab,
  errorText,
  getLab,
  gradeExercise,
  LabApiError,
  waitForLab,
} from "../../src/site/lab-api.ts";

const realFetch = globalThis.fetch;
afterEach(() => {
  globalThis.fetch = realFetch;
});

/** Answer each fetch from a script; record what was asked. */
function script(...answers: (Response | Error)[]) {
  const calls: { url: string; method: string }[] = [];
  globalThis.fetch = (async (url: string, init: RequestInit = {}) => {
    calls.push({ url: String(url), method: init.method ?? "GET" });
    const next = answers.shift();
    if (!next) throw new Error("no more answers");
    if (next instanceof Error) throw next;
    return next;
  }) as typeof fetch;
  return calls;
}
const json = (status: number, body: unknown) =>
  new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json" } });

describe("the page's lab API client shows the server's hint", () => {
  it("an error answer becomes a LabApiError with the server's message, hint and status", async () => {
    script(json(503, { error: "the lab server is shutting down", hint: "Reload the page in a moment." }));
    const err = await apiRequest("POST", API.lab, {}).catch((e: unknown) => e);
    assert.ok(err instanceof LabApiError);
    assert.equal(err.status, 503);
    assert.equal(err.hint, "Reload the page in a moment.");
    assert.equal(errorText(err), "the lab server is shutting down — Reload the page in a moment.");
    assert.equal(errorText(new Error("offline")), "offline");
  });

  it("a Check is retried once when the connection dropped, never when the server answered", async () => {
    const result = { exercise: "job/echo", passed: true, score: 1, maxScore: 1, checks: [], durationMs: 1 };
    const calls = script(new TypeError("fetch failed"), json(200, result));
    assert.deepEqual(await gradeExercise({ exercise: "job/echo", locale: "en", requestId: "r1" }), result);
    assert.deepEqual(
      calls.map((c) => `${c.method} ${c.url}`),
      ["POST /api/lab/grade", "POST /api/lab/grade"],
    );

    const once = script(
      json(409, { error: "the lab is not ready", hint: "Wait until the terminal says it is ready." }),
    );
    await assert.rejects(
      gradeExercise({ exercise: "job/echo" }),
      (e: unknown) => e instanceof LabApiError && e.hint === "Wait until the terminal says it is ready.",
    );
    assert.equal(once.length, 1);
  });

  it("starting and reading the lab are retried once when the connection dropped, never when the server answered", async () => {
    const lab = { id: "local", state: "ready" };
    let calls = script(new TypeError("network changed"), json(200, lab));
    assert.deepEqual(await createLab(), lab);
    assert.deepEqual(
      calls.map((c) => c.method),
      ["POST", "POST"],
    );
    calls = script(new TypeError("network changed"), json(200, lab));
    assert.deepEqual(await getLab(), lab);
    assert.equal(calls.length, 2);
    calls = script(json(409, { error: "no lab" }), json(200, lab));
    assert.ok((await getLab().catch((e: unknown) => e)) instanceof LabApiError);
    assert.equal(calls.length, 1, "an answer is not retried");
    const aborted = new AbortController();
    aborted.abort();
    calls = script(new DOMException("aborted", "AbortError"), json(200, lab));
    await assert.rejects(getLab(aborted.signal));
    assert.equal(calls.length, 1, "an abort is not retried");
  });

  it("a lab in error carries its hint to the terminal", async () => {
    script(
      json(200, {
        id: "local",
        state: "error",
        namespace: "default",
        message: "the toolbox cannot start",
        hint: "Make sure the image is available.",
      }),
    );
    await assert.rejects(
      waitForLab(() => {}),
      (e: unknown) =>
        e instanceof LabApiError && errorText(e) === "the toolbox cannot start — Make sure the image is available.",
    );
  });
});
