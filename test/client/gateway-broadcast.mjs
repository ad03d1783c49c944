// Fan-out: BroadcastToRoom reaches exactly the room, Broadcast everyone,
// BroadcastToSymbol the channel room and the symbol room with each client
// once, Emit to several rooms each client once whatever its overlap.
//
// GATEWAY_TOKENS: t (any user; every client uses it).

import { Run, expectEqual } from "./gateway-lib.mjs";

const run = new Run();
const c = {}; // label -> Client

// Who subscribes to what.
const PLAN = {
  both: [{ channel: "market-data" }, { channel: "market-data", symbols: ["BTC/USD"] }],
  channel: [{ channel: "market-data" }],
  btc: [{ channel: "market-data", symbols: ["BTC/USD"] }],
  eth: [{ channel: "market-data", symbols: ["ETH/USD"] }],
  trader: [{ channel: "trading" }],
  idle: [],
};

// received publishes, then proves with a probe that nothing else is on its
// way, and returns how many times each client got event with tag.
async function received(publish, event, tag) {
  await publish();
  const all = Object.values(c);
  await run.sync(...all);
  const counts = {};
  for (const [label, client] of Object.entries(c)) {
    counts[label] = client.all(event).filter((p) => p && p.tag === tag).length;
  }
  return counts;
}

run.check("connect-and-subscribe", async () => {
  for (const [label, requests] of Object.entries(PLAN)) {
    c[label] = await run.connect(label, { token: run.token("t") });
    for (const r of requests) {
      const [p] = await c[label].emitAck("subscribe", r);
      expectEqual(typeof p.room, "string", `${label}: subscribe ${JSON.stringify(r)} failed: ${JSON.stringify(p)}`);
    }
  }
  return Object.fromEntries(Object.entries(c).map(([l, x]) => [l, x.id]));
});

run.check("broadcast-to-room", async () => {
  const got = await received(
    () => run.ctl("room", { room: "trading", event: "order:filled", data: { tag: "room" } }),
    "order:filled",
    "room",
  );
  expectEqual(got, { both: 0, channel: 0, btc: 0, eth: 0, trader: 1, idle: 0 }, "BroadcastToRoom(trading) recipients");
  return got;
});

run.check("broadcast-to-symbol-room", async () => {
  const got = await received(
    () => run.ctl("room", { room: "market-data:BTC/USD", event: "ticker:update", data: { tag: "btc-room" } }),
    "ticker:update",
    "btc-room",
  );
  expectEqual(got, { both: 1, channel: 0, btc: 1, eth: 0, trader: 0, idle: 0 }, "BroadcastToRoom(market-data:BTC/USD) recipients");
  return got;
});

run.check("broadcast-to-everyone", async () => {
  const got = await received(() => run.ctl("broadcast", { event: "notice", data: { tag: "all" } }), "notice", "all");
  expectEqual(got, { both: 1, channel: 1, btc: 1, eth: 1, trader: 1, idle: 1 }, "Broadcast recipients");
  return got;
});

run.check("publish-to-symbol", async () => {
  const btc = await received(
    () => run.ctl("symbol", { channel: "market-data", symbol: "BTC/USD", event: "ticker:update", data: { tag: "btc" } }),
    "ticker:update",
    "btc",
  );
  expectEqual(btc, { both: 1, channel: 1, btc: 1, eth: 0, trader: 0, idle: 0 }, "BroadcastToSymbol(BTC/USD) recipients");
  const eth = await received(
    () => run.ctl("symbol", { channel: "market-data", symbol: "ETH/USD", event: "ticker:update", data: { tag: "eth" } }),
    "ticker:update",
    "eth",
  );
  expectEqual(eth, { both: 1, channel: 1, btc: 0, eth: 1, trader: 0, idle: 0 }, "BroadcastToSymbol(ETH/USD) recipients");
  return { btc, eth };
});

run.check("broadcast-to-rooms-dedupes", async () => {
  const rooms = ["trading", "market-data", "market-data:BTC/USD", "market-data", "no-such-room"];
  const got = await received(() => run.ctl("rooms", { rooms, event: "multi", data: { tag: "multi" } }), "multi", "multi");
  expectEqual(got, { both: 1, channel: 1, btc: 1, eth: 0, trader: 1, idle: 0 }, "Emit to several rooms: recipients");
  // A second call is not swallowed by the first one's bookkeeping.
  const again = await received(() => run.ctl("rooms", { rooms, event: "multi", data: { tag: "again" } }), "multi", "again");
  expectEqual(again, got, "a repeated Emit to several rooms");
  return got;
});

run.check("payload-intact", async () => {
  const data = { tag: "shape", symbol: "BTC/USD", price: 64123.5, size: 0.25, side: "buy", ts: "2024-01-01T00:00:00.000Z", levels: [[1, 2], [3, 4]], note: "é✓" };
  await run.ctl("symbol", { channel: "market-data", symbol: "BTC/USD", event: "ticker:update", data });
  const got = await c.btc.wait("ticker:update", (p) => p.tag === "shape");
  expectEqual(got, data, "the published payload changed on the way");
  return got;
});

await run.finish();
