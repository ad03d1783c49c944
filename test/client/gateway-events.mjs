// The client-to-server events of the seed's table (subscribe, unsubscribe,
// ping, get-subscriptions), their replies and acknowledgements, and every
// error code a bad request earns, each followed by proof that the
// connection is still open and still subscribed.
//
// The gateway runs with WithMaxSymbols(3), WithMaxSubscriptions(4) and a
// channel authorizer that refuses "llm" to user u-events.
// GATEWAY_TOKENS: events (sub u-events), other (sub u-other).

import { Run, expect, expectEqual, isoRecent } from "./gateway-lib.mjs";

const run = new Run();
let a; // u-events, the client under test
let b; // u-other

const sorted = (xs) => [...xs].sort();

// request emits a built-in event with an ack and returns the reply event
// and the ack, which must carry the same payload.
async function request(c, event, reply, ...args) {
  const from = c.count(reply);
  const ack = await c.emitAck(event, ...args);
  const payload = await c.wait(reply, () => true, from);
  expectEqual(ack, [payload], `the ack of "${event}" differs from the "${reply}" event`);
  return payload;
}

function expectSubscription(p, want) {
  const keys = want.rooms ? ["channel", "room", "rooms", "symbols", "timestamp"] : ["channel", "room", "symbols", "timestamp"];
  expectEqual(Object.keys(p).sort(), keys, "unexpected fields");
  expectEqual({ ...p, timestamp: undefined }, { ...want, timestamp: undefined }, "unexpected payload");
  expect(isoRecent(p.timestamp), "timestamp is not ISO-8601 UTC with milliseconds", p);
}

let delivery = 0;

// stillServed proves that c is connected and still in the trading room:
// a trading broadcast published now reaches it.
async function stillServed(c) {
  const n = ++delivery;
  await run.ctl("room", { room: "trading", event: "order:filled", data: { n } });
  await c.wait("order:filled", (p) => p.n === n);
  expect(c.socket.connected && c.count("disconnect") === 0, "the client was disconnected", {
    disconnects: c.all("disconnect"),
  });
}

async function subscriptions(c) {
  const p = await request(c, "get-subscriptions", "subscriptions");
  expectEqual(Object.keys(p).sort(), ["count", "subscriptions", "timestamp"], "unexpected subscriptions fields");
  expect(p.count === p.subscriptions.length && isoRecent(p.timestamp), "inconsistent subscriptions payload", p);
  return sorted(p.subscriptions);
}

// refusedRequest sends a request that must be refused with code: an
// `error` {message, code, timestamp} event, the same payload as the ack, no
// reply event, and the connection kept with its subscriptions.
async function refusedRequest(event, args, code) {
  const replies = { subscribe: "subscribed", unsubscribe: "unsubscribed" };
  const reply = replies[event];
  const before = { errors: a.count("error"), replies: reply ? a.count(reply) : 0 };
  const ack = await a.emitAck(event, ...args);
  const err = await a.wait("error", () => true, before.errors);
  const detail = { sent: args, error: err };
  expect(err.code === code, `error code is not ${code}`, detail);
  expectEqual(Object.keys(err).sort(), ["code", "message", "timestamp"], "unexpected error fields");
  expect(typeof err.message === "string" && err.message.length > 0, "error without a message", detail);
  expect(isoRecent(err.timestamp), "error timestamp is not ISO-8601", detail);
  expectEqual(ack, [err], `the ack of the refused "${event}" is not the error payload`);
  await stillServed(a);
  if (reply) expect(a.count(reply) === before.replies, `a "${reply}" event was sent for a refused request`, detail);
  return detail;
}

run.check("connect", async () => {
  a = await run.connect("a", { token: run.token("events") });
  b = await run.connect("b", { token: run.token("other") });
  return { a: a.id, b: b.id };
});

run.check("subscribe-trading", async () => {
  // As in the seed: a plain emit, the confirmation as an event.
  a.socket.emit("subscribe", { channel: "trading" });
  const p = await a.wait("subscribed");
  expectSubscription(p, { channel: "trading", symbols: [], room: "trading" });
  await stillServed(a);
  return p;
});

run.check("subscribe-twice-delivers-once", async () => {
  // React StrictMode runs effects twice: a repeated subscribe must not
  // double the deliveries.
  const p = await request(a, "subscribe", "subscribed", { channel: "trading" });
  expectSubscription(p, { channel: "trading", symbols: [], room: "trading" });
  const from = a.count("order:filled");
  await run.ctl("room", { room: "trading", event: "order:filled", data: { n: "twice" } });
  await run.sync(a);
  expectEqual(a.all("order:filled").slice(from), [{ n: "twice" }], "deliveries after subscribing twice");
  return p;
});

run.check("subscribe-market-data-symbols", async () => {
  const p = await request(a, "subscribe", "subscribed", { channel: "market-data", symbols: ["BTC/USD", "ETH/USD"] });
  expectSubscription(p, {
    channel: "market-data",
    symbols: ["BTC/USD", "ETH/USD"],
    room: "market-data:BTC/USD",
    rooms: ["market-data:BTC/USD", "market-data:ETH/USD"],
  });
  for (const symbol of ["BTC/USD", "ETH/USD"]) {
    await run.ctl("symbol", { channel: "market-data", symbol, event: "ticker:update", data: { symbol } });
    await a.wait("ticker:update", (t) => t.symbol === symbol);
  }
  return p;
});

run.check("ping-pong", async () => {
  a.socket.emit("ping");
  const plain = await a.wait("pong");
  expectEqual(Object.keys(plain), ["timestamp"], "unexpected pong fields");
  expect(isoRecent(plain.timestamp), "pong timestamp is not ISO-8601", plain);
  const acked = await request(a, "ping", "pong");
  return { plain, acked };
});

run.check("get-subscriptions", async () => {
  const subs = await subscriptions(a);
  expectEqual(subs, ["market-data:BTC/USD", "market-data:ETH/USD", "trading"], "unexpected subscriptions");
  return subs;
});

run.check("unsubscribe-symbol", async () => {
  const p = await request(a, "unsubscribe", "unsubscribed", { channel: "market-data", symbols: ["BTC/USD"] });
  expectSubscription(p, { channel: "market-data", symbols: ["BTC/USD"], room: "market-data:BTC/USD" });
  const from = a.count("ticker:update");
  await run.ctl("symbol", { channel: "market-data", symbol: "BTC/USD", event: "ticker:update", data: { symbol: "BTC/USD", n: 2 } });
  await run.ctl("symbol", { channel: "market-data", symbol: "ETH/USD", event: "ticker:update", data: { symbol: "ETH/USD", n: 2 } });
  await a.wait("ticker:update", (t) => t.symbol === "ETH/USD" && t.n === 2, from);
  const got = a.all("ticker:update").slice(from);
  expectEqual(got, [{ symbol: "ETH/USD", n: 2 }], "after leaving BTC/USD, exactly the ETH/USD update should arrive");
  expectEqual(await subscriptions(a), ["market-data:ETH/USD", "trading"], "unexpected subscriptions");
  return p;
});

run.check("unsubscribe-whole-channel", async () => {
  await request(a, "subscribe", "subscribed", { channel: "market-data" });
  await request(a, "subscribe", "subscribed", { channel: "market-data", symbols: ["SOL/USD"] });
  expectEqual(
    await subscriptions(a),
    ["market-data", "market-data:ETH/USD", "market-data:SOL/USD", "trading"],
    "unexpected subscriptions before leaving the channel",
  );
  const p = await request(a, "unsubscribe", "unsubscribed", { channel: "market-data" });
  expect(p.channel === "market-data" && p.room === "market-data", "unexpected unsubscribed payload", p);
  expectEqual(p.symbols, [], "unsubscribed.symbols");
  expectEqual(sorted(p.rooms || []), ["market-data", "market-data:ETH/USD", "market-data:SOL/USD"], "unsubscribed.rooms");
  const from = a.count("ticker:update");
  for (const symbol of ["ETH/USD", "SOL/USD", "BTC/USD"]) {
    await run.ctl("symbol", { channel: "market-data", symbol, event: "ticker:update", data: { symbol, n: 3 } });
  }
  await run.ctl("room", { room: "market-data", event: "ticker:update", data: { symbol: "*", n: 3 } });
  await stillServed(a);
  expectEqual(a.all("ticker:update").slice(from), [], "market data still arrives after leaving the channel");
  expectEqual(await subscriptions(a), ["trading"], "unexpected subscriptions after leaving the channel");
  return p;
});

run.check("subscribe-own-user-room", async () => {
  const p = await request(a, "subscribe", "subscribed", { channel: "user:u-events" });
  expect(p.room === "user:u-events", "unexpected room", p);
  return p;
});

run.check("error-unknown-channel", () => refusedRequest("subscribe", [{ channel: "forex" }], "UNKNOWN_CHANNEL"));

run.check("error-unknown-channel-unsubscribe", () =>
  refusedRequest("unsubscribe", [{ channel: "forex" }], "UNKNOWN_CHANNEL"),
);

run.check("error-invalid-symbol", async () => {
  const detail = await refusedRequest("subscribe", [{ channel: "market-data", symbols: ["BTC USD"] }], "INVALID_SYMBOL");
  // A request with one bad symbol joins none of them.
  await refusedRequest("subscribe", [{ channel: "market-data", symbols: ["BTC/USD", "<script>"] }], "INVALID_SYMBOL");
  const from = a.count("ticker:update");
  await run.ctl("symbol", { channel: "market-data", symbol: "BTC/USD", event: "ticker:update", data: { symbol: "BTC/USD" } });
  await stillServed(a);
  expectEqual(a.all("ticker:update").slice(from), [], "a refused request joined a room");
  return detail;
});

run.check("error-too-many-symbols", () =>
  refusedRequest("subscribe", [{ channel: "market-data", symbols: ["A", "B", "C", "D"] }], "TOO_MANY_SYMBOLS"),
);

run.check("error-too-many-subscriptions", async () => {
  await request(a, "subscribe", "subscribed", { channel: "market-data", symbols: ["A", "B", "C"] });
  const detail = await refusedRequest("subscribe", [{ channel: "market-data" }], "TOO_MANY_SUBSCRIPTIONS");
  const kept = ["market-data:A", "market-data:B", "market-data:C", "trading"];
  expectEqual(await subscriptions(a), kept, "the refused subscription changed the subscriptions");
  await run.ctl("symbol", { channel: "market-data", symbol: "B", event: "ticker:update", data: { symbol: "B" } });
  await a.wait("ticker:update", (t) => t.symbol === "B");
  await request(a, "unsubscribe", "unsubscribed", { channel: "market-data" });
  return detail;
});

run.check("error-forbidden-by-authorizer", async () => {
  const detail = await refusedRequest("subscribe", [{ channel: "llm" }], "FORBIDDEN");
  // The authorizer decides per user: another user may subscribe.
  const p = await request(b, "subscribe", "subscribed", { channel: "llm" });
  expect(p.room === "llm", "unexpected room for the allowed user", p);
  const from = a.count("llm:stream");
  await run.ctl("room", { room: "llm", event: "llm:stream", data: { chunk: "hi" } });
  await b.wait("llm:stream");
  await stillServed(a);
  expect(a.count("llm:stream") === from, "the refused client receives the llm room", {});
  return detail;
});

run.check("error-forbidden-user-room", async () => {
  const detail = await refusedRequest("subscribe", [{ channel: "user:someone-else" }], "FORBIDDEN");
  await refusedRequest("subscribe", [{ channel: "user:u-other" }], "FORBIDDEN");
  const from = a.count("order:filled");
  await run.ctl("user", { user: "u-other", event: "order:filled", data: { n: -1 } });
  await b.wait("order:filled", (p) => p.n === -1);
  await stillServed(a);
  expect(!a.all("order:filled").slice(from).some((p) => p.n === -1), "another user's message reached the client", {});
  return detail;
});

run.check("error-invalid-payload", async () => {
  const detail = await refusedRequest("subscribe", ["trading"], "INVALID_PAYLOAD");
  await refusedRequest("subscribe", [], "INVALID_PAYLOAD");
  await refusedRequest("subscribe", [42], "INVALID_PAYLOAD");
  await refusedRequest("subscribe", [null], "INVALID_PAYLOAD");
  await refusedRequest("subscribe", [["trading"]], "INVALID_PAYLOAD");
  await refusedRequest("subscribe", [{ channel: 7 }], "INVALID_PAYLOAD");
  await refusedRequest("subscribe", [{ channel: "market-data", symbols: "BTC/USD" }], "INVALID_PAYLOAD");
  await refusedRequest("unsubscribe", ["trading"], "INVALID_PAYLOAD");
  return detail;
});

run.check("subscriptions-kept-after-errors", async () => {
  const subs = await subscriptions(a);
  expectEqual(subs, ["trading"], "errors changed the subscriptions");
  expect(a.count("disconnect") === 0 && b.count("disconnect") === 0, "a client was disconnected", {});
  return subs;
});

await run.finish();
