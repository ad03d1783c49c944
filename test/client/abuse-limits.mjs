// abuse-limits.mjs: connection limits, the handshake rate and the payload
// limit, each refusing a socket.io-client the way it can understand, while
// a watcher connected to the same gateway keeps receiving its stream.
//
// The gateway is configured by the Go test with WithConnectionLimits(8, 3,
// 2), WithHandshakeRate(1, 4), WithMaxPayload(4096) and a client address
// read from the X-Client-Addr header, so one process can stand for many
// addresses. The Go side streams `tick` {seq} to the trading room every
// few milliseconds for the whole run.
//
// Environment: GATEWAY_TOKENS {watcher, alice, u1..u6, r4}.

import http from "node:http";
import { randomBytes } from "node:crypto";
import { Checks, CheckFailure, config, connect, expect, open, refused } from "./abuse-lib.mjs";

const cfg = config();
const checks = new Checks();
const sockets = [];
const LIMIT_CODE = "TOO_MANY_CONNECTIONS";

// from returns socket.io-client options for a token and a client address.
function from(addr, tokenName, extra = {}) {
  return { token: cfg.token(tokenName), extraHeaders: { "X-Client-Addr": addr }, ...extra };
}

async function join(label, addr, tokenName, extra) {
  const c = await connect(cfg.url, label, from(addr, tokenName, extra));
  sockets.push(c.socket);
  return c;
}

async function refusedForLimit(label, addr, tokenName, message) {
  const err = await refused(cfg.url, label, from(addr, tokenName));
  expect(err.data && err.data.code === LIMIT_CODE, `${label}: connect_error code ${err.data && err.data.code}, want ${LIMIT_CODE}`, {
    message: err.message,
    data: err.data,
  });
  expect(err.message === message, `${label}: connect_error message "${err.message}", want "${message}"`);
  return { message: err.message, code: err.data.code };
}

let watcher;
let watcherSeqs = [];
await checks.run("watcher-connected", async () => {
  watcher = await join("watcher", "10.0.0.1", "watcher");
  watcher.socket.on("tick", (p) => watcherSeqs.push(p.seq));
  const reply = await watcher.emitAck("subscribe", { channel: "trading" });
  expect(reply && reply.room === "trading", "watcher: subscribe failed", reply);
  await watcher.wait("tick", { timeoutMs: 5000 });
  return { first: watcherSeqs[0] };
});

// connectionCount resolves once the watcher has been told that count
// clients are connected, after the events it had already seen: the
// gateway's own word that it has processed earlier arrivals and departures.
function connectionCount(count) {
  return watcher.wait("connection-count", { match: (p) => p.count === count, from: watcher.count("connection-count") });
}

// rawHandshake opens an Engine.IO websocket session from addr without a
// Socket.IO client (a bare HTTP upgrade), reads the open packet and
// closes. It resolves with the HTTP status: 101 and the start of the open
// packet for a session, or the refusal's status and Retry-After.
function rawHandshake(addr) {
  return new Promise((resolve, reject) => {
    const req = http.request(`${cfg.url}/socket.io/?EIO=4&transport=websocket`, {
      headers: {
        Connection: "Upgrade",
        Upgrade: "websocket",
        "Sec-WebSocket-Version": "13",
        "Sec-WebSocket-Key": randomBytes(16).toString("base64"),
        "X-Client-Addr": addr,
      },
    });
    req.on("upgrade", (res, socket, head) => {
      let buf = head;
      const frame = () => {
        // An unmasked server text frame: 0x81, then a 7-bit length or 126
        // and a 16-bit length.
        if (buf.length < 2) return;
        let len = buf[1] & 0x7f;
        let off = 2;
        if (len === 126) {
          if (buf.length < 4) return;
          len = buf.readUInt16BE(2);
          off = 4;
        }
        if (buf.length < off + len) return;
        socket.destroy();
        resolve({ status: res.statusCode, open: buf.subarray(off, off + 8).toString() });
      };
      socket.on("data", (d) => {
        buf = Buffer.concat([buf, d]);
        frame();
      });
      frame();
    });
    req.on("response", (res) => {
      resolve({ status: res.statusCode, retryAfter: res.headers["retry-after"] });
      res.resume();
    });
    req.on("error", (err) => reject(new CheckFailure(`raw handshake: ${err.message}`)));
    req.end();
  });
}

let handshakeRefusals = 0;
await checks.run("handshake-rate", async () => {
  // WithHandshakeRate(1, 4): four handshakes at once from one address
  // pass, the next ones are answered 503 before any session exists.
  const raw = await Promise.all([1, 2, 3, 4].map(() => rawHandshake("10.0.0.9")));
  expect(raw.every((r) => r.status === 101 && r.open.startsWith("0{")), "the first four handshakes were not all accepted", raw);
  const over = await rawHandshake("10.0.0.9");
  handshakeRefusals++;
  expect(over.status === 503 && over.retryAfter === "1", "the fifth handshake was not answered 503 with Retry-After: 1", over);

  const ws = await refused(cfg.url, "r4", from("10.0.0.9", "r4"));
  handshakeRefusals++;
  expect(ws.message === "websocket error", `websocket: connect_error "${ws.message}", want "websocket error"`);
  // Over long-polling the refusal's HTTP status reaches the client.
  const polling = await refused(cfg.url, "r4-polling", from("10.0.0.9", "r4", { transports: ["polling"] }));
  handshakeRefusals++;
  expect(polling.message === "xhr poll error", `polling: connect_error "${polling.message}", want "xhr poll error"`);
  expect(polling.description === 503, `polling: connect_error description ${polling.description}, want HTTP status 503`);

  // socket.io-client retries a refused handshake with its backoff and
  // gets in once the address's bucket has refilled (refused handshakes
  // take no tokens).
  const retrying = open(cfg.url, "r4-retrying", from("10.0.0.9", "r4", { reconnection: true, reconnectionDelay: 200, reconnectionDelayMax: 400 }));
  sockets.push(retrying.socket);
  await retrying.wait("connected", { timeoutMs: 8000 });
  const retried = retrying.count("connect_error");
  handshakeRefusals += retried;
  expect(retried >= 1, "the retrying client was never refused: the bucket had refilled already");

  // Another address has its own bucket.
  const other = await join("r4-elsewhere", "10.0.0.10", "r4");
  for (const c of [retrying, other]) c.socket.disconnect();
  await connectionCount(1);
  return { raw: over, websocket: ws.message, polling: { message: polling.message, status: polling.description }, retriedAfter: retried };
});

const alice = [];
await checks.run("per-user-limit", async () => {
  // WithConnectionLimits(8, 3, 2): a user's third connection is refused,
  // from whatever address.
  alice.push(await join("alice-1", "10.0.0.2", "alice"));
  alice.push(await join("alice-2", "10.0.0.3", "alice"));
  return refusedForLimit("alice-3", "10.0.0.4", "alice", "too many connections for this user (limit 2)");
});

const u = {};
await checks.run("per-address-limit", async () => {
  for (const n of ["u1", "u2", "u3"]) u[n] = await join(n, "10.0.0.5", n);
  return refusedForLimit("u4", "10.0.0.5", "u4", "too many connections from this address (limit 3)");
});

await checks.run("total-limit", async () => {
  // 6 connected so far; two more fill the gateway.
  u.u5 = await join("u5", "10.0.0.6", "u5");
  u.u4 = await join("u4-elsewhere", "10.0.0.8", "u4");
  return refusedForLimit("u6", "10.0.0.7", "u6", "the server is at its connection limit (8)");
});

await checks.run("slot-released-on-disconnect", async () => {
  alice[0].socket.disconnect();
  await connectionCount(7);
  alice.push(await join("alice-3-again", "10.0.0.4", "alice"));
  return { connected: true };
});

await checks.run("max-payload-closes-only-that-connection", async () => {
  // WithMaxPayload(4096): a larger message closes the sender's connection.
  const big = u.u1;
  const bystander = u.u2; // same address, same gateway
  big.socket.emit("subscribe", { channel: "trading", note: "x".repeat(8192) });
  const reason = await big.wait("disconnect", { timeoutMs: 5000 });
  expect(reason === "transport close" || reason === "transport error", `disconnect reason "${reason}"`);
  const pong = await bystander.emitAck("ping", {});
  expect(pong && typeof pong.timestamp === "string", "the bystander on the same address no longer answers", pong);
  expect(bystander.socket.connected, "the bystander was disconnected too");
  return { reason };
});

await checks.run("watcher-unaffected", async () => {
  // The watcher was never told anything but its ticks, none missing.
  const mark = watcherSeqs[watcherSeqs.length - 1];
  await watcher.wait("tick", { match: (p) => p.seq > mark + 5, from: 0, timeoutMs: 5000 });
  expect(watcher.socket.connected && watcher.count("disconnect") === 0, "the watcher was disconnected");
  const gaps = [];
  for (let i = 1; i < watcherSeqs.length; i++) {
    if (watcherSeqs[i] !== watcherSeqs[i - 1] + 1) gaps.push([watcherSeqs[i - 1], watcherSeqs[i]]);
  }
  expect(gaps.length === 0, "the watcher's stream has gaps", gaps.slice(0, 5));
  expect(watcher.count("error") === 0, "the watcher received error events", watcher.all("error"));
  return { ticks: watcherSeqs.length, first: watcherSeqs[0], last: watcherSeqs[watcherSeqs.length - 1] };
});

await checks.run("handshake-refusals-seen", async () => ({ count: handshakeRefusals }));

await checks.finish(sockets);
