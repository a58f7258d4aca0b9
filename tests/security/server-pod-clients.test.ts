/**
 * A class server refuses connections from the cluster's pod network (issue
 * "Security II", item 4): a learner's pod reaching the node's address gets
 * no answer, on any route or upgrade, and so cannot add guesses at the
 * instructor's password by making pods. The pod network is stood in for by
 * 127.0.0.2/32 (a loopback source address this test can pick).
 */
import assert from "node:assert/strict";
import { request } from "node:http";
import { after, before, describe, it } from "node:test";
import { createAddressRanges } from "../../src/server/http/address-ranges.ts";
import { createLabServer, type LabServer } from "../../src/server/server.ts";
import { FakeExecTransport, FakeLabManager } from "../fakes/server-fakes.ts";

function get(port: number, path: string, localAddress: string, headers: Record<string, string> = {}) {
  return new Promise<number>((resolve, reject) => {
    const req = request({ host: "127.0.0.1", port, path, localAddress, headers }, (res) => {
      res.resume();
      resolve(res.statusCode!);
    });
    req.on("upgrade", (res, socket) => {
      socket.destroy();
      resolve(res.statusCode!);
    });
    req.on("error", reject);
    req.end();
  });
}

describe("a class server and the pod network", () => {
  let server: LabServer;
  let port: number;
  before(async () => {
    server = createLabServer({
      labManager: new FakeLabManager("namespace"),
      grade: { has: () => true, grade: async () => Promise.reject(new Error("unused")) },
      terminalTransport: new FakeExecTransport().terminals(),
      refuseClients: ["127.0.0.2/32"],
      port: 0,
    });
    port = Number(new URL(await server.listen()).port);
  });
  after(() => server.close());

  it("answers a client outside it", async () => {
    assert.equal(await get(port, "/api/health", "127.0.0.1"), 200);
  });

  it("gives a pod address no answer: not the API, not the sign-in, not a terminal upgrade", async () => {
    for (const path of ["/api/health", "/instructor/login", "/api/lab/terminal"]) {
      await assert.rejects(
        get(port, path, "127.0.0.2", {
          connection: "Upgrade",
          upgrade: "websocket",
          "sec-websocket-version": "13",
          "sec-websocket-key": "dGhlIHNhbXBsZSBub25jZQ==",
        }),
        /socket hang up|ECONNRESET/,
        path,
      );
    }
  });

  it("the filter: CIDRs of both families, IPv4-mapped peers, and a clear error for a malformed range", () => {
    const f = createAddressRanges(["10.244.0.0/16", "fd00:1::/64"]);
    assert.equal(f.has("10.244.3.7"), true);
    assert.equal(f.has("::ffff:10.244.0.9"), true);
    assert.equal(f.has("fd00:1::5"), true);
    assert.equal(f.has("10.245.0.1"), false);
    assert.equal(f.has("127.0.0.1"), false);
    assert.equal(f.has(undefined), false);
    assert.throws(() => createAddressRanges(["10.244.0.0/33"]), /invalid address range/);
  });
});
