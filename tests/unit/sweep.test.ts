/**
 * The sweep's rules (src/app/sweep.ts judgeNamespaces), from labels and
 * store facts alone: what is live is never judged otherwise.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { V1Namespace } from "@kubernetes/client-node";
import { formatAge, labsTable } from "../../src/cli/commands/labs.ts";
import { judgeNamespaces, kubelabNamespaces, type SweepFacts } from "../../src/app/sweep.ts";
import type { Learner } from "../../src/store/index.ts";

const NOW = Date.parse("2026-01-10T12:00:00Z");
const HOUR = 3600_000;

function ns(name: string, labels: Record<string, string>, ageMs = 2 * HOUR): V1Namespace {
  return { metadata: { name, labels, creationTimestamp: new Date(NOW - ageMs) } };
}
const lab = (id: string, role: string, extra: Record<string, string> = {}) => ({
  "app.kubernetes.io/managed-by": "kubelab",
  "kubelab.dev/lab": id,
  "kubelab.dev/role": role,
  ...extra,
});
const learner = (id: string, labId: string, seenAgoMs = HOUR): Learner => ({
  id,
  labId,
  createdAt: new Date(NOW - 10 * HOUR).toISOString(),
  lastSeenAt: new Date(NOW - seenAgoMs).toISOString(),
});

function judge(items: V1Namespace[], facts: Partial<SweepFacts>, held: string[] = []) {
  const all = kubelabNamespaces(items);
  const judged = judgeNamespaces(
    all,
    { owners: new Map(), attempts: new Map(), examLabs: new Set(), ...facts },
    { now: NOW, held: new Set(held) },
  );
  return Object.fromEntries(judged.map((j) => [j.name, `${j.state}:${j.learner ?? "-"}`]));
}

describe("sweep rules", () => {
  test("only kubelab's namespaces are judged: its label, or an exam attempt's", () => {
    const names = kubelabNamespaces([
      ns("default", {}),
      ns("kube-system", { "kubernetes.io/metadata.name": "kube-system" }),
      ns("kubelab-a1", lab("a1", "toolbox")),
      ns("ckad-task-1", { "kubelab.dev/exam-attempt": "x1" }),
    ]).map((n) => n.name);
    assert.deepEqual(names, ["kubelab-a1", "ckad-task-1"]);
  });

  test("a lab's namespaces are live while the store knows its learner, orphans when it knows none", () => {
    const verdicts = judge(
      [
        ns("kubelab-a1", lab("a1", "toolbox")),
        ns("lab-a1", lab("a1", "learner")),
        ns("kubelab-b2", lab("b2", "toolbox")),
        ns("lab-b2", lab("b2", "learner")),
      ],
      { owners: new Map([["a1", learner("L1", "a1")]]) },
    );
    assert.deepEqual(verdicts, {
      "kubelab-a1": "live:L1",
      "lab-a1": "live:L1",
      "kubelab-b2": "orphan:-",
      "lab-b2": "orphan:-",
    });
  });

  test("cluster mode's lab, a lab this server holds, a young namespace and a running exam's lab are live", () => {
    const verdicts = judge(
      [
        ns("kubelab-local", lab("local", "toolbox")),
        ns("kubelab-h1", lab("h1", "toolbox")),
        ns("kubelab-n1", lab("n1", "toolbox"), 60_000),
        ns("kubelab-e1", lab("e1", "toolbox")),
      ],
      { examLabs: new Set(["e1"]) },
      ["h1"],
    );
    assert.deepEqual(Object.values(verdicts), ["live:-", "live:-", "live:-", "live:-"]);
  });

  test("exam tasks: live while the attempt runs (even past its deadline), expired once submitted, orphans when unknown", () => {
    const verdicts = judge(
      [
        ns("e1-task-1", lab("e1", "exam-task", { "kubelab.dev/exam-attempt": "run" })),
        ns("ckad-task-2", { "kubelab.dev/exam-attempt": "done" }),
        ns("ckad-task-3", { "kubelab.dev/exam-attempt": "gone" }),
        ns("ckad-task-4", { "kubelab.dev/exam-attempt": "gone" }, 60_000),
      ],
      {
        attempts: new Map([
          ["run", { running: true, learnerId: "L7" }],
          ["done", { running: false, learnerId: "L8" }],
        ]),
      },
    );
    assert.deepEqual(verdicts, {
      "e1-task-1": "live:L7",
      "ckad-task-2": "expired:L8",
      "ckad-task-3": "orphan:-",
      "ckad-task-4": "live:-",
    });
  });

  test("a lab whose learner was not seen for its lifetime is expired, unless this server holds it", () => {
    const owners = new Map([["old", learner("L9", "old", 30 * HOUR)]]);
    assert.deepEqual(judge([ns("kubelab-old", lab("old", "toolbox"))], { owners }), { "kubelab-old": "expired:L9" });
    assert.deepEqual(judge([ns("kubelab-old", lab("old", "toolbox"))], { owners }, ["old"]), {
      "kubelab-old": "live:L9",
    });
  });

  test("labs list's table: namespace, lab, learner, mode, age, state and why, one row each", () => {
    const rows = judgeNamespaces(
      kubelabNamespaces([
        ns("kubelab-a1", lab("a1", "toolbox"), 3 * HOUR),
        ns("ckad-task-1", { "kubelab.dev/exam-attempt": "x" }),
      ]),
      { owners: new Map([["a1", learner("L1", "a1")]]), attempts: new Map(), examLabs: new Set() },
      { now: NOW },
    );
    const lines = labsTable(rows, NOW).split("\n");
    assert.match(lines[0]!, /^NAMESPACE\s+LAB\s+LEARNER\s+MODE\s+AGE\s+STATE\s+WHY$/);
    assert.match(lines[1]!, /^kubelab-a1\s+a1\s+L1\s+namespace\s+3h\s+live\s+its learner has it$/);
    assert.match(lines[2]!, /^ckad-task-1\s+-\s+-\s+cluster\s+2h\s+orphan\s+the store knows no such exam attempt$/);
    assert.deepEqual([formatAge(59_000), formatAge(90 * 60_000), formatAge(50 * HOUR)], ["0m", "1h", "2d"]);
  });
});
