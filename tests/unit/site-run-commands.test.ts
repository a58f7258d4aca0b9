/** What the Run button under a lesson code block sends to the terminal. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { INTERRUPT, INTERRUPT_SETTLE_MS, runActionFor, typeAction } from "../../src/site/run-commands.ts";

test("shell blocks are sent as-is, heredocs included", () => {
  const code = "cat > a.txt <<'EOF'\nhello\nEOF\nkubectl get po\n";
  assert.deepEqual(runActionFor({ language: "bash", code }), { kind: "run", command: code.trimEnd() });
});

test("console transcripts get no Run button", () => {
  assert.equal(runActionFor({ language: "console", code: "[root@master pod]# kubectl get po\nNAME\n" }), undefined);
});

test("a titled YAML block becomes a quoted heredoc that writes the file", () => {
  const action = runActionFor({ language: "yaml", title: "job.yaml", code: "kind: Job\nname: $HOME\n" });
  assert.deepEqual(action, {
    kind: "write",
    file: "job.yaml",
    content: "kind: Job\nname: $HOME\n",
    command: "cat > job.yaml <<'EOF'\nkind: Job\nname: $HOME\nEOF",
  });
});

test("the heredoc delimiter never collides with the content", () => {
  const action = runActionFor({ language: "yaml", title: "x.yaml", code: "a: 1\nEOF\n" });
  assert.equal(action?.command, "cat > x.yaml <<'EOF_'\na: 1\nEOF\nEOF_");
});

test("untitled YAML and unsafe titles are not runnable", () => {
  assert.equal(runActionFor({ language: "yaml", code: "a: 1" }), undefined);
  assert.equal(runActionFor({ language: "yaml", title: "a b; rm -rf x", code: "a: 1" }), undefined);
});

test("a block whose last line watches or follows is marked as left running", () => {
  for (const code of [
    "kubectl create -f job-parallel.yaml\nkubectl get po -l job-name=parallel -w",
    "kubectl get cj concurrency --watch",
    "kubectl logs -f job/echo",
    "tail -f /var/log/app.log",
  ]) {
    assert.equal(runActionFor({ language: "bash", code })?.keepsRunning, true, code);
  }
  for (const code of [
    "kubectl get po -w\nkubectl get job parallel",
    "kubectl create -f job.yaml",
    "kubectl logs sidecar -c log-shipper --tail=3",
    "kubectl describe po x | grep -A8 'Init Containers'",
    "exit",
  ]) {
    assert.equal(runActionFor({ language: "bash", code })?.keepsRunning, undefined, code);
  }
});

test("after a block left a watch running, the next button presses Ctrl+C and pauses before typing", async () => {
  const seen: string[] = [];
  const target = {
    sendInput: (text: string) => void seen.push(`keys ${JSON.stringify(text)}`),
    run: (command: string) => void seen.push(`run ${command}`),
    sleep: async (ms: number) => void seen.push(`sleep ${ms}`),
  };
  const watch = runActionFor({ language: "bash", code: "kubectl get po -l job-name=parallel -w" })!;
  const next = runActionFor({ language: "bash", code: "kubectl get job parallel\n" })!;
  await typeAction(watch, undefined, target);
  assert.deepEqual(seen, ["run kubectl get po -l job-name=parallel -w"], "nothing to interrupt before the first");
  await typeAction(next, watch, target);
  assert.deepEqual(seen.slice(1), [`keys "\\u0003"`, `sleep ${INTERRUPT_SETTLE_MS}`, "run kubectl get job parallel"]);
  seen.length = 0;
  // Inside a container's shell, `exit` after `netstat` must not be preceded by Ctrl+C (the exit code would be 130).
  await typeAction(
    runActionFor({ language: "bash", code: "exit" })!,
    runActionFor({ language: "bash", code: "netstat -anpt" }),
    target,
  );
  assert.deepEqual(seen, ["run exit"]);
  assert.equal(INTERRUPT, "\u0003");
  assert.ok(
    INTERRUPT_SETTLE_MS >= 50 && INTERRUPT_SETTLE_MS <= 500,
    "long enough for bash to settle, short enough not to be felt",
  );
});
