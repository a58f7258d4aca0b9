/**
 * A class opens only where NetworkPolicy keeps its learners apart (the
 * server's check, src/lab/policy-check.ts), or where the operator accepted
 * that it does not; the instructor page is told either way.
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { createClassService } from "../../src/class/class-service.ts";
import { hashPassword } from "../../src/class/passwords.ts";
import {
  deleteAbandonedProbes,
  ROLE_POLICY_CHECK,
  type PolicyCheck,
  type PolicyWatch,
} from "../../src/lab/policy-check.ts";
import { openSqliteStore } from "../../src/store/sqlite/index.ts";
import { FakeLabManager } from "../fakes/server-fakes.ts";

const dir = mkdtempSync(join(tmpdir(), "kubelab-class-policy-"));
after(() => rmSync(dir, { recursive: true, force: true }));

/** A check that answers `result` (undefined: none has finished yet; `check` then runs one). */
function watch(
  result: PolicyCheck | undefined,
  accepted: boolean,
  onCheck?: PolicyCheck,
): PolicyWatch & { runs: number } {
  let latest = result;
  const w = {
    runs: 0,
    accepted,
    latest: () => latest,
    check: async () => {
      w.runs++;
      return (latest = onCheck!);
    },
    stop: () => {},
  };
  return w;
}

const at = "2026-01-01T00:00:00Z";
const enforced: PolicyCheck = { enforced: true, proven: true, detail: "ok", checkedAt: at };
const ignored: PolicyCheck = { enforced: false, proven: true, detail: "a pod reached a denied port", checkedAt: at };
const unsure: PolicyCheck = { enforced: false, proven: false, detail: "a probe pod did not start", checkedAt: at };
const ana = { name: "ana", admin: false, sid: "s" };
const input = { name: "c", lessons: ["job"], capacity: 1, labLifetimeMinutes: 30 };

async function service(policy: PolicyWatch) {
  const store = openSqliteStore({ path: join(dir, `${Math.random()}.db`) });
  await store.setInstructor("ana", await hashPassword("correct horse battery", { N: 1024, r: 8, p: 1 }));
  return createClassService({
    store,
    labManager: new FakeLabManager("namespace"),
    pollMs: 50,
    lessons: [{ slug: "job", title: "Job", order: 1, exercises: ["job/echo"] }],
    networkPolicy: policy,
  });
}

describe("classes and the NetworkPolicy check", () => {
  it("opens a class where the check passed; the page shows nothing", async () => {
    const s = await service(watch(enforced, false));
    assert.equal((await s.create(ana, input)).name, "c");
    assert.equal(s.unenforcedPolicy(), undefined);
    s.close();
  });

  it("refuses a class where it failed, saying why and how to accept it", async () => {
    const s = await service(watch(ignored, false));
    await assert.rejects(s.create(ana, input), (err: Error & { hint?: string; status?: number }) => {
      assert.equal(err.status, 409);
      assert.match(err.message, /does not enforce NetworkPolicy.*a pod reached a denied port/);
      assert.match(err.hint!, /--accept-unenforced-network-policy/);
      return true;
    });
    assert.deepEqual(s.unenforcedPolicy(), { detail: ignored.detail, checkedAt: ignored.checkedAt, accepted: false });
    s.close();
  });

  it("waits for the start-up check when none has finished", async () => {
    const w = watch(undefined, false, ignored);
    const s = await service(w);
    await assert.rejects(s.create(ana, input), /does not enforce NetworkPolicy/);
    assert.equal(w.runs, 1);
    s.close();
  });

  it("checks again where the last check could not tell, and opens the class once it proves the policy holds", async () => {
    const w = watch(unsure, false, enforced);
    const s = await service(w);
    assert.equal((await s.create(ana, input)).name, "c");
    assert.equal(w.runs, 1);
    s.close();
  });

  it("opens it where the operator accepted an unenforced policy, and the page still says so", async () => {
    const s = await service(watch(ignored, true));
    assert.equal((await s.create(ana, input)).name, "c");
    assert.equal(s.unenforcedPolicy()?.accepted, true);
    s.close();
  });
});

describe("the NetworkPolicy check's clean-up", () => {
  it("deletes probe namespaces older than a check lives (a server killed mid-check), never a running check's", async () => {
    const now = Date.parse("2026-01-01T10:00:00Z");
    const ns = (name: string, ageMs: number, deleting = false) => ({
      metadata: {
        name,
        creationTimestamp: new Date(now - ageMs),
        ...(deleting ? { deletionTimestamp: new Date(now) } : {}),
      },
    });
    const deleted: string[] = [];
    let selector = "";
    const core = {
      listNamespace: async (req: { labelSelector?: string }) => {
        selector = req.labelSelector ?? "";
        return {
          items: [
            ns("abandoned", 200_000),
            ns("running-now", 30_000),
            ns("just-past-timeout", 100_000),
            ns("already-going", 500_000, true),
          ],
        };
      },
      deleteNamespace: async (req: { name: string }) => void deleted.push(req.name),
    };
    await deleteAbandonedProbes(core as never, 90_000, now);
    assert.equal(selector, `kubelab.dev/role=${ROLE_POLICY_CHECK}`);
    assert.deepEqual(deleted, ["abandoned"]);
  });
});
