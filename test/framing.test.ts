import { strict as assert } from "assert";
import * as net from "node:net";
import { Request, Response } from "cosmjs-types/tendermint/abci/types";
import { FrameDecoder, FrameTooLargeError, MalformedFrameError, frame } from "../src/abci/framing";
import { encodeUvarint } from "../src/util/varint";
import { AbciServer, type AbciApplication } from "../src/abci/server";

function sampleRequest(i: number): Uint8Array {
  return Request.encode(Request.fromPartial({ echo: { message: `message ${i} ` + "x".repeat(i * 7) } })).finish();
}

describe("ABCI framing", () => {
  it("encodes the length as an unsigned varint (not zigzag)", () => {
    assert.deepEqual([...encodeUvarint(1)], [1]); // zigzag would give 2
    assert.deepEqual([...encodeUvarint(300)], [0xac, 0x02]);
    assert.deepEqual([...encodeUvarint(2 ** 35)], [0x80, 0x80, 0x80, 0x80, 0x80, 0x01]);
  });

  it("decodes a message split at every byte offset the same as whole", () => {
    // A message over 128 bytes so the length prefix itself is two bytes and gets split too.
    const msg = sampleRequest(40);
    const framed = frame(msg);
    assert.ok(framed.length > 130);
    for (let cut = 0; cut <= framed.length; cut++) {
      const d = new FrameDecoder();
      const out = [...d.push(framed.subarray(0, cut)), ...d.push(framed.subarray(cut))];
      assert.equal(out.length, 1, `cut at ${cut}`);
      assert.deepEqual(Buffer.from(out[0]), Buffer.from(msg), `cut at ${cut}`);
      assert.equal(Request.decode(out[0]).echo?.message, Request.decode(msg).echo?.message);
      assert.equal(d.pendingBytes, 0);
    }
  });

  it("decodes a message fed one byte at a time", () => {
    const msg = sampleRequest(25);
    const d = new FrameDecoder();
    const out: Uint8Array[] = [];
    for (const b of frame(msg)) out.push(...d.push(Uint8Array.of(b)));
    assert.equal(out.length, 1);
    assert.deepEqual(Buffer.from(out[0]), Buffer.from(msg));
  });

  it("decodes 100 messages in one chunk, in order, and keeps a trailing partial frame", () => {
    const msgs = Array.from({ length: 100 }, (_, i) => sampleRequest(i));
    const extra = frame(sampleRequest(500));
    const chunk = Buffer.concat([...msgs.map(frame), extra.subarray(0, 10)]);
    const d = new FrameDecoder();
    const out = d.push(chunk);
    assert.equal(out.length, 100);
    out.forEach((m, i) => assert.equal(Request.decode(m).echo?.message, Request.decode(msgs[i]).echo?.message));
    assert.equal(d.pendingBytes, 10);
    const rest = d.push(extra.subarray(10));
    assert.equal(rest.length, 1);
  });

  it("refuses a length over the cap, before buffering the body", () => {
    const d = new FrameDecoder(1024);
    assert.throws(() => d.push(encodeUvarint(1025)), (e: unknown) => e instanceof FrameTooLargeError && /1025 bytes exceeds the 1024-byte cap/.test(e.message));
    assert.throws(() => d.push(Uint8Array.of(1)), MalformedFrameError); // unusable afterwards
    // A huge length is refused as soon as its varint passes the cap, even if incomplete.
    const d2 = new FrameDecoder(1024);
    assert.throws(() => d2.push(Uint8Array.of(0xff, 0xff)), FrameTooLargeError);
  });

  it("accepts a frame exactly at the cap", () => {
    const d = new FrameDecoder(300);
    const out = d.push(Buffer.concat([encodeUvarint(300), Buffer.alloc(300, 7)]));
    assert.equal(out.length, 1);
    assert.equal(out[0].length, 300);
  });
});

describe("ABCI socket server", () => {
  // The server answers Echo and Flush itself; these tests never reach the app.
  const app = new Proxy({}, { get: () => () => { throw new Error("app must not be called"); } }) as AbciApplication;

  async function withServer(maxFrameBytes: number, fn: (port: number, logs: string[], server: AbciServer) => Promise<void>): Promise<void> {
    const logs: string[] = [];
    const server = new AbciServer(app, { maxFrameBytes, log: (m) => logs.push(m) });
    await server.listen("tcp://127.0.0.1:0");
    const port = ((server as unknown as { server: net.Server }).server.address() as net.AddressInfo).port;
    try { await fn(port, logs, server); } finally { await server.close(); }
  }

  function collect(sock: net.Socket, count: number): Promise<Response[]> {
    const d = new FrameDecoder();
    const out: Response[] = [];
    return new Promise((resolve, reject) => {
      sock.on("data", (c) => {
        for (const m of d.push(c)) out.push(Response.decode(m));
        if (out.length >= count) resolve(out);
      });
      sock.on("error", reject);
    });
  }

  it("answers echo and flush in request order, even when written one byte at a time", async () => {
    await withServer(1 << 20, async (port) => {
      const sock = net.connect(port, "127.0.0.1");
      await new Promise((r) => sock.once("connect", r));
      const reqs = [
        ...Array.from({ length: 20 }, (_, i) => Request.fromPartial({ echo: { message: `m${i}` } })),
        Request.fromPartial({ flush: {} }),
      ];
      const bytes = Buffer.concat(reqs.map((r) => frame(Request.encode(r).finish())));
      const got = collect(sock, reqs.length);
      for (const b of bytes) sock.write(Uint8Array.of(b));
      const res = await got;
      res.slice(0, 20).forEach((r, i) => assert.equal(r.echo?.message, `m${i}`));
      assert.ok(res[20].flush);
      sock.destroy();
    });
  });

  it("coalesces the responses to a pipelined batch into one socket write, still in order", async () => {
    await withServer(1 << 20, async (port, _logs, server) => {
      const sock = net.connect(port, "127.0.0.1");
      await new Promise((r) => sock.once("connect", r));
      const reqs = [...Array.from({ length: 50 }, (_, i) => Request.fromPartial({ echo: { message: `b${i}` } })), Request.fromPartial({ flush: {} })];
      const got = collect(sock, reqs.length);
      sock.write(Buffer.concat(reqs.map((r) => frame(Request.encode(r).finish()))));
      const res = await got;
      res.slice(0, 50).forEach((r, i) => assert.equal(r.echo?.message, `b${i}`));
      assert.ok(res[50].flush);
      assert.equal(server.stats.responses, 51);
      assert.ok(server.stats.writes <= 2, `${server.stats.writes} writes for 51 responses`);
      // A lone request later is answered at once, in its own write.
      sock.removeAllListeners("data");
      const one = collect(sock, 1);
      sock.write(frame(Request.encode(Request.fromPartial({ echo: { message: "later" } })).finish()));
      assert.equal((await one)[0].echo?.message, "later");
      sock.destroy();
    });
  });

  it("a Query in progress holds up neither FinalizeBlock nor Commit on another connection; CheckTx still waits for FinalizeBlock", async () => {
    let releaseQuery = () => {};
    const queryGate = new Promise<void>((r) => { releaseQuery = r; });
    let releaseFinalize = () => {};
    const finalizeGate = new Promise<void>((r) => { releaseFinalize = r; });
    const order: string[] = [];
    const slowApp = {
      async query() { order.push("query start"); await queryGate; order.push("query end"); return { code: 0 }; },
      async finalizeBlock() { order.push("finalize start"); await finalizeGate; order.push("finalize end"); return {}; },
      async commit() { order.push("commit"); return {}; },
      async checkTx() { order.push("checkTx"); return { code: 0 }; },
    } as unknown as AbciApplication;
    const server = new AbciServer(slowApp, { log: () => undefined });
    await server.listen("tcp://127.0.0.1:0");
    const port = ((server as unknown as { server: net.Server }).server.address() as net.AddressInfo).port;
    const conn = async () => { const c = net.connect(port, "127.0.0.1"); await new Promise((r) => c.once("connect", r)); return c; };
    const send = (c: net.Socket, r: Request) => c.write(frame(Request.encode(r).finish()));
    try {
      const [queryConn, mempoolConn, consensusConn] = [await conn(), await conn(), await conn()];
      const queryAnswer = collect(queryConn, 1);
      send(queryConn, Request.fromPartial({ query: { path: "/slow" } }));
      await new Promise((r) => setTimeout(r, 20));
      const consensusAnswers = collect(consensusConn, 2);
      send(consensusConn, Request.fromPartial({ finalizeBlock: {} }));
      send(consensusConn, Request.fromPartial({ commit: {} }));
      await new Promise((r) => setTimeout(r, 5));
      const checkAnswer = collect(mempoolConn, 1);
      send(mempoolConn, Request.fromPartial({ checkTx: { tx: Uint8Array.of(1) } }));
      // FinalizeBlock ends only once the server has read the CheckTx (setImmediate runs after an event
      // loop poll, which reads what is on the socket): a fixed 20 ms FinalizeBlock raced a loaded CI machine.
      await new Promise((r) => setTimeout(r, 20));
      for (let i = 0; i < 3; i++) await new Promise((r) => setImmediate(r));
      assert.deepEqual(order, ["query start", "finalize start"], "FinalizeBlock runs while the query waits");
      releaseFinalize();
      const timeout = new Promise<never>((_, reject) => setTimeout(() => reject(new Error("FinalizeBlock/Commit not answered while a query was running")), 3000));
      const answers = await Promise.race([consensusAnswers, timeout]);
      assert.ok(answers[0].finalizeBlock && answers[1].commit, "FinalizeBlock and Commit answered while the query is still running");
      assert.ok((await checkAnswer)[0].checkTx);
      // CheckTx arrived during FinalizeBlock: it waited for it (the lock), then went before the Commit queued after it.
      assert.deepEqual(order, ["query start", "finalize start", "finalize end", "checkTx", "commit"]);
      releaseQuery();
      assert.ok((await queryAnswer)[0].query);
      for (const c of [queryConn, mempoolConn, consensusConn]) c.destroy();
    } finally {
      releaseQuery();
      releaseFinalize();
      await server.close();
    }
  });

  it("an app with checkTxBesideBlock: CheckTx runs while FinalizeBlock executes; Commit waits for a CheckTx in flight, and CheckTx for Commit", async () => {
    let releaseCheck = () => {};
    const checkGate = new Promise<void>((r) => { releaseCheck = r; });
    const order: string[] = [];
    let checks = 0;
    const besideApp = {
      checkTxBesideBlock: true,
      async finalizeBlock() { order.push("finalize start"); await new Promise((r) => setTimeout(r, 30)); order.push("finalize end"); return {}; },
      async commit() { order.push("commit start"); await new Promise((r) => setTimeout(r, 30)); order.push("commit end"); return {}; },
      async checkTx() {
        const n = ++checks;
        order.push(`check${n} start`);
        if (n === 1) await checkGate;
        order.push(`check${n} end`);
        return { code: 0 };
      },
    } as unknown as AbciApplication;
    const server = new AbciServer(besideApp, { log: () => undefined });
    await server.listen("tcp://127.0.0.1:0");
    const port = ((server as unknown as { server: net.Server }).server.address() as net.AddressInfo).port;
    const conn = async () => { const c = net.connect(port, "127.0.0.1"); await new Promise((r) => c.once("connect", r)); return c; };
    const send = (c: net.Socket, r: Request) => c.write(frame(Request.encode(r).finish()));
    const until = async (what: string) => {
      for (let i = 0; i < 300 && !order.includes(what); i++) await new Promise((r) => setTimeout(r, 5));
      assert.ok(order.includes(what), `${what} never happened: ${order.join(", ")}`);
    };
    try {
      const [mempoolConn, consensusConn] = [await conn(), await conn()];
      const consensusAnswers = collect(consensusConn, 2);
      const checkAnswers = collect(mempoolConn, 2);
      send(consensusConn, Request.fromPartial({ finalizeBlock: {} }));
      await until("finalize start");
      send(mempoolConn, Request.fromPartial({ checkTx: { tx: Uint8Array.of(1) } }));
      await until("finalize end");
      send(consensusConn, Request.fromPartial({ commit: {} }));
      await new Promise((r) => setTimeout(r, 40));
      assert.ok(!order.includes("commit start"), "Commit waits for the CheckTx in flight");
      releaseCheck();
      await until("commit start");
      send(mempoolConn, Request.fromPartial({ checkTx: { tx: Uint8Array.of(2) } }));
      const [fb, commit] = await consensusAnswers;
      assert.ok(fb.finalizeBlock && commit.commit);
      assert.ok((await checkAnswers).every((r) => r.checkTx));
      assert.deepEqual(order, ["finalize start", "check1 start", "finalize end", "check1 end", "commit start", "commit end", "check2 start", "check2 end"]);
      for (const c of [mempoolConn, consensusConn]) c.destroy();
    } finally {
      releaseCheck();
      await server.close();
    }
  });

  it("closes a connection that announces an oversized frame, with a clear log line", async () => {
    await withServer(1000, async (port, logs) => {
      const sock = net.connect(port, "127.0.0.1");
      await new Promise((r) => sock.once("connect", r));
      const closed = new Promise((r) => sock.once("close", r));
      sock.write(encodeUvarint(5000));
      await closed;
      assert.ok(logs.some((l) => /5000 bytes exceeds the 1000-byte cap/.test(l)), logs.join("\n"));
    });
  });
});
