/**
 * The simulated learners of class.bench.ts, in a worker thread of their own:
 * their sockets and their reading of the terminal run on another event loop
 * than the server's, as browsers on other machines would (they still share
 * this machine's two cores with it). Each, as a browser would: POST /join
 * with the code and a name, POST /api/lab, a WebSocket terminal until the
 * shell prompt (join → prompt); then it types the Job exercise, times single
 * keystrokes until their echo, and presses Check until it passes.
 */
import { parentPort, workerData } from "node:worker_threads";
import { JOB, joinClass, pressCheck, PROMPT, terminal } from "./classroom.ts";
import { elapsed, sleep } from "./support.ts";

export interface LearnersInput {
  base: string;
  code: string;
  learners: number;
  /** Keystrokes each learner times. */
  keys: number;
}

export interface LearnersResult {
  joinMs: number[];
  /** join → prompt's two parts: POST /join + POST /api/lab, then the terminal until the prompt. */
  joinHttpMs: number[];
  terminalMs: number[];
  /** Each press of Check: its HTTP round trip. */
  checkMs: number[];
  /** The same presses' grading alone (the answer's durationMs): the rest of the round trip is the server's queue, its store write and the network. */
  checkGraderMs: number[];
  /** Presses answered "still running, look again" (the Job not done yet): counted in checkMs, as each is a wait the learner sees. */
  checkWaiting: number;
  echoMs: number[];
  failures: string[];
  served: number;
  /** CPU time of this worker's thread (ms): load the simulated browsers put on the server's two cores. */
  cpuMs: number;
}

const { base, code, learners, keys } = workerData as LearnersInput;
const result: LearnersResult = {
  joinMs: [],
  joinHttpMs: [],
  terminalMs: [],
  checkMs: [],
  checkGraderMs: [],
  checkWaiting: 0,
  echoMs: [],
  failures: [],
  served: 0,
  cpuMs: 0,
};

await Promise.all(
  Array.from({ length: learners }, async (_, i) => {
    try {
      const t0 = performance.now();
      const cookie = await joinClass(base, code, `learner ${i + 1}`);
      result.joinHttpMs.push(elapsed(t0));
      const t1 = performance.now();
      const term = terminal(base, cookie);
      await term.until((t) => t.includes(PROMPT), 120_000);
      result.terminalMs.push(elapsed(t1));
      result.joinMs.push(elapsed(t0));
      // The bench measures the server's event loop in two phases: the joins, then the work.
      if (result.joinMs.length === learners) parentPort!.postMessage({ joined: true });
      term.send(JOB);
      await term.until((t) => t.includes("WAITED-42"), 240_000);
      // Echo under load: one key at a time, each until it is drawn.
      for (let k = 0; k < keys; k++) {
        const ch = String.fromCharCode(97 + (k % 26));
        const before = term.text.length;
        const start = performance.now();
        term.send(ch);
        await term.until((t) => t.length > before && t.slice(before).includes(ch), 10_000);
        result.echoMs.push(elapsed(start));
      }
      term.send("\u0015");
      for (let tries = 0; ; tries++) {
        const check = await pressCheck(base, cookie, "job/echo");
        result.checkMs.push(check.ms);
        const body = check.body as { durationMs?: number; waitMs?: number };
        if (typeof body.durationMs === "number") result.checkGraderMs.push(body.durationMs);
        if (body.waitMs !== undefined) result.checkWaiting++;
        if (check.passed) break;
        if (tries >= 5) throw new Error(`job/echo did not pass: ${JSON.stringify(check.body).slice(0, 300)}`);
        await sleep(2000);
      }
      result.served++;
      term.ws.close();
    } catch (err) {
      result.failures.push(`learner ${i + 1}: ${(err as Error).message}`);
    }
  }),
);
const cpu = process.threadCpuUsage();
result.cpuMs = Math.round((cpu.user + cpu.system) / 1000);
parentPort!.postMessage(result);
