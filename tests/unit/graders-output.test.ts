/**
 * Grader exec output is bounded: kubeExec keeps at most the cap of each
 * stream and terminates the WebSocket at the cap, at the timeout and on
 * abort (a fake connector stands in for the API server's exec stream).
 */
import assert from "node:assert/strict";
import { EventEmitter } from "node:events";
import { describe, it } from "node:test";
import { KubeConfig } from "@kubernetes/client-node";
import { kubeExec } from "../../src/graders/context.ts";
import type { ExecConnector } from "../../src/graders/context.ts";
import { InfraError } from "../../src/graders/errors.ts";

/** The part of a ws WebSocket that Exec and kubeExec use. */
class FakeSocket extends EventEmitter {
  readonly CLOSED = 3;
  readyState = 1;
  terminated = 0;
  terminate() {
    this.terminated++;
    if (this.readyState === this.CLOSED) return;
    this.readyState = this.CLOSED;
    queueMicrotask(() => this.emit("close"));
  }
}

/** A connector whose stream is driven by `script` until the socket closes. */
function connector(script: (send: (stream: number, data: string | Buffer) => void, socket: FakeSocket) => void): {
  connect: ExecConnector;
  socket: FakeSocket;
} {
  const socket = new FakeSocket();
  const connect = {
    connect: async (_path: string, _text: unknown, binary: ((stream: number, buff: Buffer) => boolean) | null) => {
      const send = (stream: number, data: string | Buffer) => {
        if (socket.readyState !== socket.CLOSED) binary?.(stream, Buffer.isBuffer(data) ? data : Buffer.from(data));
      };
      setImmediate(() => script(send, socket));
      return socket as never;
    },
  } as unknown as ExecConnector;
  return { connect, socket };
}

const kc = new KubeConfig();

describe("kubeExec", () => {
  it("returns output and exit code of a command that ends", async () => {
    const { connect } = connector((send, socket) => {
      send(1, "test-init.txt\n");
      send(3, JSON.stringify({ status: "Success" }));
      socket.terminate();
    });
    const r = await kubeExec(kc, connect)("lab", "p", "c", ["ls", "/mnt"], { timeoutMs: 1000 });
    assert.deepEqual(r, { stdout: "test-init.txt\n", stderr: "", exitCode: 0 });
  });

  it("keeps the first limitBytes and closes the stream at the cap (a command that prints without end)", async () => {
    const chunk = Buffer.alloc(1024 * 1024, "y");
    let sent = 0;
    const { connect, socket } = connector((send, s) => {
      const pump = () => {
        if (s.readyState === s.CLOSED) return;
        send(1, chunk);
        sent++;
        setImmediate(pump);
      };
      pump();
    });
    const before = process.memoryUsage().heapUsed;
    const r = await kubeExec(kc, connect)("lab", "p", "c", ["ls"], { limitBytes: 64 * 1024, timeoutMs: 5000 });
    assert.equal(r.stdout.length, 64 * 1024);
    assert.equal(r.truncated, true);
    assert.equal(r.exitCode, null);
    assert.equal(socket.terminated, 1);
    assert.ok(sent <= 2, `stream closed at the cap (sent ${sent} MiB)`);
    assert.ok(process.memoryUsage().heapUsed - before < 16 * 1024 * 1024);
  });

  it("caps stderr too", async () => {
    const { connect } = connector((send) => send(2, Buffer.alloc(100_000, "e")));
    const r = await kubeExec(kc, connect)("lab", "p", "c", ["ls"], { limitBytes: 1000 });
    assert.equal(r.stderr.length, 1000);
    assert.equal(r.truncated, true);
  });

  it("closes the stream at the timeout and says so (a command that never ends)", async () => {
    const { connect, socket } = connector(() => {});
    const started = Date.now();
    const r = await kubeExec(kc, connect)("lab", "p", "c", ["ls"], { timeoutMs: 50 });
    assert.equal(r.timedOut, true);
    assert.equal(socket.terminated, 1);
    assert.ok(Date.now() - started < 1000);
  });

  it("closes the stream and rejects with InfraError when grading is cancelled", async () => {
    const { connect, socket } = connector(() => {});
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 20);
    await assert.rejects(
      kubeExec(kc, connect)("lab", "p", "c", ["ls"], { signal: controller.signal, timeoutMs: 5000 }),
      InfraError,
    );
    assert.equal(socket.terminated, 1);
  });
});
