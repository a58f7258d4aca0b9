/**
 * Every command a lesson tells the learner to run, in order, in both
 * languages, each language on a fresh lab namespace of the real cluster:
 * the Run and Write buttons' text exactly as the built page gives it to them
 * (the rendered blocks of dist/, read back with the buttons' own parser),
 * typed into an interactive bash on a terminal as the buttons type it (Ctrl+C
 * after a block that left a watch running). Each block must end as the page
 * says: succeed, fail with the error the page names, keep watching until the
 * next one, open a shell in a container, or run inside that shell.
 *
 * Chapters run one after another in one shell, as a learner goes through
 * them (the init chapter's nginx meets the debug chapter's).
 */
import assert from "node:assert/strict";
import { spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { after, before, describe, it } from "node:test";
import { KubeConfig } from "@kubernetes/client-node";
import { ensureSite } from "../../src/site-build/site-build.ts";
import { blockFromRendered, runActionFor, typeAction, type RunAction } from "../../src/site/run-commands.ts";
import { kubeconfig, kubectl, kubectlPath } from "../support/cluster.ts";

const CHAPTERS = ["job", "cronjob", "init-containers", "ephemeral-containers"] as const;
const LOCALES = [
  { lang: "zh-CN", prefix: "" },
  { lang: "en", prefix: "en/" },
] as const;

/** How a block ends, as its page describes it. */
type Outcome =
  /**
   * Every command succeeds (exit 0); `retryFor`: a learner runs it again until it does (state still settling),
   * the whole block, or only `retry` where the block's first commands took effect and must not run twice;
   * `withinMs`: the page promises it gives the prompt back at once.
   */
  | { kind: "ok"; output?: RegExp; retryFor?: number; retry?: string; withinMs?: number }
  /** Fails with the error the page warns about. */
  | { kind: "fails"; output: RegExp }
  /** Either way (a tip: "if … already exists, delete it"). */
  | { kind: "either" }
  /** Its last command keeps running; the next button stops it. */
  | { kind: "watch"; output?: RegExp }
  /** Opens a shell in a container; ready when this shows. */
  | { kind: "enter"; ready: RegExp }
  /** Runs in the shell the previous block opened. */
  | { kind: "inside"; output: RegExp }
  /** `exit`: back to the lab's own shell. */
  | { kind: "leave" };

/** The blocks whose ending is not "every command succeeds at once", by their exact text. */
const OUTCOMES: [RegExp, Outcome][] = [
  [/^kubectl create job echo --image=busybox/, { kind: "fails", output: /AlreadyExists|already exists/ }],
  // What the Job chapter promises to show, exactly (kubectl get job: NAME STATUS COMPLETIONS …).
  [
    /^kubectl wait --for=condition=complete job\/completions .*\nkubectl get job completions$/,
    { kind: "ok", output: /^completions\s+Complete\s+3\/3\s/m },
  ],
  [
    /^kubectl wait --for=condition=complete job\/parallel .*\nkubectl get job parallel$/,
    { kind: "ok", output: /^parallel\s+Complete\s+4\/4\s/m },
  ],
  [
    /^kubectl wait --for=delete job\/ttl .*\nkubectl get job ttl$/,
    { kind: "fails", output: /\(NotFound\): jobs\.batch "ttl" not found/ },
  ],
  [
    /^kubectl delete deploy nginx\nkubectl delete pod init-order sidecar init-fail --wait=false$/,
    { kind: "ok", withinMs: 10_000 },
  ],
  [/^kubectl logs job\/echo$/, { kind: "ok", output: /^Hello, Job$/m, retryFor: 60_000 }],
  [/ -w$| --watch$/, { kind: "watch", output: /created/ }],
  [/^kubectl logs -l run=hello/, { kind: "ok", output: /Hello from the Kubernetes cluster/, retryFor: 100_000 }],
  [/^kubectl exec deploy\/nginx -- ls \/mnt$/, { kind: "ok", output: /^test-init\.txt$/m, retryFor: 60_000 }],
  [/^kubectl logs init-order$/, { kind: "ok", output: /^first\s+^second$/m, retryFor: 60_000 }],
  [/^kubectl logs sidecar -c log-shipper/, { kind: "ok", output: /hello from app/, retryFor: 30_000 }],
  // A slow start can put the kubelet's second attempt (Init:0/1 while it runs) at the 15 s the block sleeps.
  [
    /^kubectl create -f init-fail\.yaml/,
    { kind: "ok", output: /Init:(Error|CrashLoopBackOff)/, retryFor: 30_000, retry: "kubectl get po init-fail" },
  ],
  // The kubelet restarts the failed init container with growing pauses; in the moment a new attempt is created
  // and has not yet printed, `kubectl logs` reads that attempt and shows nothing (seen once in CI). A learner reruns.
  [/^kubectl logs init-fail -c wait-db/, { kind: "ok", output: /cannot reach the database/, retryFor: 30_000 }],
  [/^kubectl delete deploy nginx$/, { kind: "either" }],
  [/^POD=\$\(/, { kind: "ok", output: /^nginx-[a-z0-9]+-[a-z0-9]{5}$/m }],
  [/^kubectl exec -it \$POD -- bash$/, { kind: "enter", ready: /root@nginx-[^:]*:\/# $/ }],
  [/^netstat -anpt$/, { kind: "inside", output: /netstat: command not found|0\.0\.0\.0:80\s.*LISTEN/ }],
  [/^exit$/, { kind: "leave" }],
  [/^kubectl debug \$POD -it /, { kind: "enter", ready: /If you don't see a command prompt/ }],
  [/^NODE=.*\nkubectl debug node\/\$NODE -it /, { kind: "enter", ready: /If you don't see a command prompt/ }],
  [/^ip addr\n/, { kind: "inside", output: /\bboot\b/ }],
  // The ephemeral container may take longer than the block's 3 s to start; a learner reads its log again
  // (running the whole block again would only be refused: the container already exists).
  [/-c peek -- netstat/, { kind: "ok", output: /LISTEN/, retryFor: 30_000, retry: "kubectl logs $POD -c peek" }],
  [
    /-c peek-ps -- ps/,
    { kind: "ok", output: /nginx: master/, retryFor: 30_000, retry: "kubectl logs $POD -c peek-ps" },
  ],
  [
    /^kubectl debug node\/\$NODE -it .* -- chroot \/host sh$/,
    { kind: "enter", ready: /If you don't see a command prompt/ },
  ],
];

function outcomeOf(action: RunAction): Outcome {
  if (action.kind === "write") return { kind: "ok" };
  return OUTCOMES.find(([pattern]) => pattern.test(action.command))?.[1] ?? { kind: "ok" };
}

/** The Run and Write actions of one built lesson page, in page order. */
function pageActions(distDir: string, prefix: string, chapter: string): RunAction[] {
  const html = readFileSync(join(distDir, "client", prefix, chapter, "index.html"), "utf8");
  return html
    .split('<div class="expressive-code">')
    .slice(1)
    .flatMap((chunk) => {
      const action = runActionFor(
        blockFromRendered({
          language: chunk.match(/<pre data-language="([^"]*)"/)?.[1],
          title: decodeEntities(chunk.match(/<span class="title">([^<]*)<\/span>/)?.[1] ?? ""),
          copyCode: decodeEntities(chunk.match(/data-code="([^"]*)"/)?.[1] ?? ""),
        }),
      );
      return action ? [action] : [];
    });
}

/** HTML attribute text back to characters (the entities Astro and Expressive Code write). */
function decodeEntities(text: string): string {
  const named: Record<string, string> = { quot: '"', amp: "&", lt: "<", gt: ">", apos: "'" };
  return text.replace(/&(#x[0-9a-f]+|#\d+|quot|amp|lt|gt|apos);/gi, (_, e: string) =>
    e[0] === "#"
      ? String.fromCodePoint(e[1].toLowerCase() === "x" ? parseInt(e.slice(2), 16) : parseInt(e.slice(1), 10))
      : named[e.toLowerCase()],
  );
}

const ANSI = /\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b[()][A-Z0-9]|\x1b[=>]|\r/g;
const PS1 = "__KL_PS1__$ ";
const END = /__KL_END (\d+) (\d+) \[([^\]]*)\]/;

/** An interactive bash on a terminal (script(1) gives it a pty), like the lab's toolbox shell. */
class Shell {
  #child: ChildProcessWithoutNullStreams;
  #text = "";
  #ended = 0;

  constructor(cwd: string, env: NodeJS.ProcessEnv) {
    const rc = join(cwd, ".bashrc");
    // Test scaffolding only: a prompt to recognise, and a count of the commands that failed since the last reset.
    writeFileSync(
      rc,
      [
        `PS1='${PS1}'`,
        "PS2='> '",
        "stty cols 200 -echoctl",
        `trap '__kl_e=$((__kl_e+1)); __kl_failed+="$BASH_COMMAND; "' ERR`,
      ].join("\n") + "\n",
    );
    this.#child = spawn("script", ["-qfec", `bash --noprofile --rcfile ${rc} -i`, "/dev/null"], {
      cwd,
      env: { ...process.env, ...env, TERM: "xterm" },
    });
    this.#child.stdout.on(
      "data",
      (chunk: Buffer) => (this.#text = (this.#text + chunk.toString("utf8").replace(ANSI, "")).slice(-200_000)),
    );
    this.#child.stderr.on("data", (chunk: Buffer) => (this.#text += chunk.toString("utf8")));
  }

  /** Output since `mark` (a value of `length`). */
  since(mark: number): string {
    return this.#text.slice(mark);
  }

  get length(): number {
    return this.#text.length;
  }

  write(keys: string): void {
    this.#child.stdin.write(keys);
  }

  /** Types a button's action as the page does; `scaffold` adds the test's reset and end-marker lines around it. */
  async type(action: RunAction, previous: RunAction | undefined, scaffold: boolean): Promise<number> {
    const n = ++this.#ended;
    await typeAction(action, previous, {
      sendInput: (text) => this.write(text),
      run: (command) =>
        this.write(
          (scaffold ? "__kl_e=0 __kl_failed=\r" : "") +
            command.replace(/\n/g, "\r") +
            "\r" +
            (scaffold ? `printf '\\n__KL_END %s %s [%s]\\n' ${n} "$__kl_e" "$__kl_failed"\r` : ""),
        ),
      sleep: (ms) => new Promise((done) => setTimeout(done, ms)),
    });
    return n;
  }

  async waitFor(mark: number, pattern: RegExp, timeoutMs: number): Promise<RegExpMatchArray | undefined> {
    const until = Date.now() + timeoutMs;
    for (;;) {
      const found = this.since(mark).match(pattern);
      if (found) return found;
      if (Date.now() > until) return undefined;
      await new Promise((done) => setTimeout(done, 200));
    }
  }

  async close(): Promise<void> {
    const exited = new Promise((done) => this.#child.once("exit", done));
    this.#child.stdin.end();
    this.#child.kill("SIGKILL");
    await exited;
  }
}

interface Step {
  chapter: string;
  index: number;
  action: RunAction;
}

/** Runs the steps in order; returns one line per step that did not end as its page says. */
async function runLesson(shell: Shell, steps: Step[]): Promise<string[]> {
  const problems: string[] = [];
  let previous: RunAction | undefined;
  let inside = false;
  for (const { chapter, index, action } of steps) {
    const outcome = outcomeOf(action);
    const label = `${chapter} #${index} ${action.kind === "write" ? `write ${action.file}` : JSON.stringify(action.command)}`;
    const problem = (what: string, output: string) =>
      problems.push(`${label}: ${what}\n    ${output.trim().split("\n").slice(-8).join("\n    ")}`);
    if (inside !== (outcome.kind === "inside" || outcome.kind === "leave")) {
      problem(
        inside
          ? "typed into a container's shell the page left open (an `exit` block is missing)"
          : "runs inside a container, but no shell is open",
        "",
      );
      break;
    }
    const scaffold = outcome.kind !== "enter" && outcome.kind !== "inside" && outcome.kind !== "leave";
    const deadline = Date.now() + (outcome.kind === "ok" ? (outcome.retryFor ?? 0) : 0);
    for (let attempt = 0; ; attempt++) {
      const mark = shell.length;
      const typedAt = Date.now();
      const retry = attempt > 0 && outcome.kind === "ok" ? outcome.retry : undefined;
      const typed: RunAction = retry ? { kind: "run", command: retry } : action;
      const n = await shell.type(typed, previous, scaffold);
      previous = typed;
      if (outcome.kind === "enter") {
        if (!(await shell.waitFor(mark, outcome.ready, 120_000)))
          problem("the container's shell did not open", shell.since(mark));
        await new Promise((done) => setTimeout(done, 1500));
        inside = true;
        break;
      }
      if (outcome.kind === "inside") {
        if (!(await shell.waitFor(mark, outcome.output, 30_000)))
          problem(`expected ${outcome.output}`, shell.since(mark));
        break;
      }
      if (outcome.kind === "leave") {
        if (!(await shell.waitFor(mark, new RegExp(`\\n${PS1.replace(/[$]/g, "\\$")}$`), 30_000)))
          problem("did not return to the lab's shell", shell.since(mark));
        // 130: a Run button pressed Ctrl+C in the container's shell before `exit`.
        if (/command terminated with exit code 130/.test(shell.since(mark)))
          problem("the container's shell was interrupted before exit", shell.since(mark));
        inside = false;
        break;
      }
      const end = await shell.waitFor(
        mark,
        new RegExp(`__KL_END ${n} (\\d+) \\[([^\\]]*)\\]`),
        outcome.kind === "watch" ? 4000 : 180_000,
      );
      const output = shell.since(mark);
      if (outcome.kind === "watch") {
        if (end) problem("was expected to keep watching until interrupted, but ended", output);
        else if (outcome.output && !outcome.output.test(output)) problem(`expected ${outcome.output}`, output);
        break;
      }
      if (!end) {
        problem("did not finish within 3 minutes", output);
        return problems; // the shell is in an unknown state
      }
      const failures = Number(end[1]);
      if (outcome.kind === "either") break;
      if (outcome.kind === "fails") {
        if (failures === 0) problem("was expected to fail, but every command succeeded", output);
        else if (!outcome.output.test(output)) problem(`failed, but without ${outcome.output}`, output);
        break;
      }
      const good =
        failures === 0 && (!outcome.output || outcome.output.test(output.slice(0, output.lastIndexOf("__KL_END"))));
      if (good && outcome.withinMs !== undefined && Date.now() - typedAt > outcome.withinMs)
        problem(`took ${Math.round((Date.now() - typedAt) / 1000)} s; the page says it returns at once`, output);
      if (good) break;
      if (Date.now() < deadline) {
        await new Promise((done) => setTimeout(done, 3000));
        continue;
      }
      problem(failures ? `failed: ${end[2]}` : `expected ${outcome.output}`, output);
      break;
    }
  }
  return problems;
}

// The two languages run side by side, each in its own namespace.
describe("lesson commands, as the Run and Write buttons type them", { timeout: 30 * 60_000, concurrency: true }, () => {
  let distDir = "";
  const stepsOf = new Map<string, Step[]>();

  before(async () => {
    distDir = (await ensureSite()).distDir;
    for (const { lang, prefix } of LOCALES) {
      stepsOf.set(
        lang,
        CHAPTERS.flatMap((chapter) =>
          pageActions(distDir, prefix, chapter).map((action, index) => ({ chapter, index, action })),
        ),
      );
    }
  });

  it("both languages give the learner the same commands and files, in the same order", () => {
    const shape = (steps: Step[]) =>
      steps.map(
        ({ chapter, action }) => `${chapter}: ${action.kind === "write" ? `write ${action.file}` : action.command}`,
      );
    assert.deepEqual(shape(stepsOf.get("zh-CN")!), shape(stepsOf.get("en")!));
  });

  it("every ending this test expects still names a block of each language (a promise the text dropped fails here)", () => {
    for (const { lang } of LOCALES) {
      const commands = stepsOf.get(lang)!.flatMap(({ action }) => (action.kind === "run" ? [action.command] : []));
      const unused = OUTCOMES.filter(([pattern]) => !commands.some((c) => pattern.test(c))).map(([p]) => String(p));
      assert.deepEqual(unused, [], `${lang}: expected endings no block has`);
    }
  });

  for (const { lang } of LOCALES) {
    describe(lang, () => {
      const namespace = `lessons-${lang.toLowerCase()}-${process.pid}`;
      const work = mkdtempSync(join(tmpdir(), `kubelab-lessons-${lang}-`));
      let shell: Shell | undefined;

      after(async () => {
        await kubectl(["delete", "namespace", namespace, "--wait=false", "--ignore-not-found"]);
        await shell?.close();
        rmSync(work, { recursive: true, force: true, maxRetries: 5, retryDelay: 200 });
      });

      it("every block ends as its page says, chapter after chapter", async () => {
        const created = await kubectl(["create", "namespace", namespace]);
        assert.equal(created.code, 0, created.stderr);
        // The learner's kubeconfig: the cluster's, with the lab namespace as the current one.
        const config = new KubeConfig();
        config.loadFromFile(kubeconfig());
        config.contexts = config.contexts.map((c) => ({ ...c, namespace }));
        const path = join(work, ".kubeconfig");
        writeFileSync(path, config.exportConfig(), { mode: 0o600 });
        shell = new Shell(work, {
          KUBECONFIG: path,
          PATH: `${dirname(kubectlPath())}:${process.env.PATH}`,
          HOME: work,
        });
        assert.ok(await shell.waitFor(0, new RegExp(PS1.replace(/[$]/g, "\\$")), 15_000), "bash started");

        const problems = await runLesson(shell, stepsOf.get(lang)!);
        assert.deepEqual(
          problems,
          [],
          `${problems.length} block(s) of the ${lang} lessons did not end as the page says:\n${problems.join("\n")}`,
        );
      });
    });
  }
});
