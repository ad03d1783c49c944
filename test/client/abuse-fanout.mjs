// abuse-fanout.mjs: many socket.io-client sockets in one process receive a
// fast ticker stream while the Go test stalls another client of the same
// room. Every socket must receive (nearly) every tick, in order, and stay
// connected.
//
// Environment: GATEWAY_TOKENS {fan}, ABUSE_CLIENTS (default 1000).
// Steps printed: {"step":"ready","clients":N} once every socket is
// subscribed to market-data BTC/USD. The Go test then publishes
// ticker:update {seq, t} and finally broadcasts stream-end {published}.

import { io } from "socket.io-client";
import { Checks, CheckFailure, config, delay, expect, report } from "./abuse-lib.mjs";

const cfg = config();
const n = cfg.int("ABUSE_CLIENTS", 1000);
const token = cfg.token("fan");
const checks = new Checks();

// fan is one lightweight socket: it keeps counters, not events.
function fan(i) {
  const s = io(cfg.url, { forceNew: true, reconnection: false, timeout: 20000, transports: ["websocket"], auth: { token } });
  const f = { i, s, received: 0, last: 0, backwards: 0, gaps: 0, maxLagMs: 0, disconnect: null, end: null };
  f.connected = new Promise((resolve, reject) => {
    s.once("connected", resolve);
    s.once("connect_error", (err) => reject(new CheckFailure(`socket ${i}: connect_error ${err.message}`, err.data)));
  });
  s.on("ticker:update", (p) => {
    f.received++;
    if (p.seq <= f.last) f.backwards++;
    else if (p.seq !== f.last + 1) f.gaps++;
    f.last = Math.max(f.last, p.seq);
    const lag = Date.now() - p.t;
    if (lag > f.maxLagMs) f.maxLagMs = lag;
  });
  f.ended = new Promise((resolve) => s.once("stream-end", (p) => { f.end = p; resolve(); }));
  s.on("disconnect", (reason) => { f.disconnect = reason; });
  return f;
}

const fans = [];
const connectedOk = await checks.run("connect-and-subscribe", async () => {
  const started = Date.now();
  // Batches keep the handshake burst within what the machine absorbs.
  for (let i = 0; i < n; i += 100) {
    const batch = [];
    for (let j = i; j < Math.min(n, i + 100); j++) batch.push(fan(j));
    fans.push(...batch);
    await Promise.all(batch.map(async (f) => {
      await f.connected;
      const reply = await f.s.timeout(20000).emitWithAck("subscribe", { channel: "market-data", symbols: ["BTC/USD"] });
      expect(reply && reply.room === "market-data:BTC/USD", `socket ${f.i}: unexpected subscribe reply`, reply);
    }));
  }
  return { clients: fans.length, ms: Date.now() - started };
});
if (!connectedOk) await checks.finish(fans.map((f) => f.s));

report({ step: "ready", clients: fans.length });

const endedOk = await checks.run("stream-end-reaches-everyone", async () => {
  const timeout = delay(60000).then(() => {
    throw new CheckFailure("stream-end did not reach every socket within 60 s", {
      missing: fans.filter((f) => !f.end).length,
    });
  });
  await Promise.race([Promise.all(fans.map((f) => f.ended)), timeout]);
  return { clients: fans.length };
});

if (endedOk) {
  const published = fans[0].end.published;
  const received = fans.map((f) => f.received);
  const min = Math.min(...received);
  await checks.run("full-rate", async () => {
    const short = fans.filter((f) => f.received < 0.99 * published);
    expect(short.length === 0, `${short.length} sockets received under 99% of the ${published} ticks`, {
      published,
      min,
      worst: short.slice(0, 5).map((f) => ({ i: f.i, received: f.received })),
    });
    const lags = fans.map((f) => f.maxLagMs).sort((a, b) => a - b);
    return {
      published,
      min,
      max: Math.max(...received),
      maxLagMsMedian: lags[Math.floor(lags.length / 2)],
      maxLagMsWorst: lags[lags.length - 1],
    };
  });
  await checks.run("in-order", async () => {
    const bad = fans.filter((f) => f.backwards > 0 || f.gaps > 0);
    expect(bad.length === 0, `${bad.length} sockets saw ticks out of order or missing`, bad.slice(0, 5).map((f) => ({
      i: f.i,
      backwards: f.backwards,
      gaps: f.gaps,
    })));
    return { sockets: fans.length };
  });
}

await checks.run("stayed-connected", async () => {
  const gone = fans.filter((f) => f.disconnect !== null || !f.s.connected);
  expect(gone.length === 0, `${gone.length} sockets were disconnected`, gone.slice(0, 5).map((f) => ({ i: f.i, reason: f.disconnect })));
  return { connected: fans.length };
});

await checks.finish(fans.map((f) => f.s));
