// Gateway.Stats while clients are connected, as the host would serve it as
// JSON: {connectedClients, totalSubscriptions, clients: [{id, userId,
// email, subscriptions, transport, connectedAt}], counters}.
//
// The gateway sends no heartbeat or connection-count during the script, so
// every event it queues is accounted for. GATEWAY_TOKENS: alice (email
// alice@example.com), bob (no email), carol (email carol@example.com),
// bad (wrong secret).

import { Run, expect, expectEqual, isDeepStrictEqual, isoRecent } from "./gateway-lib.mjs";

const run = new Run();
let alice, bob, carol;
const startedAt = Date.now();

run.check("connect-and-subscribe", async () => {
  alice = await run.connect("alice", { token: run.token("alice"), transports: ["websocket"] });
  await alice.emitAck("subscribe", { channel: "trading" });
  await alice.emitAck("subscribe", { channel: "market-data", symbols: ["BTC/USD"] });
  bob = await run.connect("bob", { token: run.token("bob"), transports: ["polling"] });
  await bob.emitAck("subscribe", { channel: "llm" });
  // carol starts on long-polling and upgrades, as browsers do by default.
  carol = await run.connect("carol", { token: run.token("carol"), transports: ["polling", "websocket"], upgrade: true });
  await carol.upgraded();
  const err = await run.refused("bad", { token: run.token("bad") });
  expect(err.data.code === "INVALID_TOKEN", "the bad token was not refused", { data: err.data });
  return { alice: alice.id, bob: bob.id, carol: carol.id, carolTransport: carol.transport };
});

run.check("stats-shape-and-values", async () => {
  const s = await run.ctl("stats");
  expectEqual(Object.keys(s).sort(), ["clients", "connectedClients", "counters", "totalSubscriptions"], "top-level fields");
  expect(s.connectedClients === 3, "connectedClients", s);
  expect(s.totalSubscriptions === 3, "totalSubscriptions", s);
  expect(Array.isArray(s.clients) && s.clients.length === 3, "clients", s);

  const want = {
    [alice.id]: { userId: "alice", email: "alice@example.com", subscriptions: ["market-data:BTC/USD", "trading"], transport: "websocket" },
    [bob.id]: { userId: "bob", subscriptions: ["llm"], transport: "polling" },
    [carol.id]: { userId: "carol", email: "carol@example.com", subscriptions: [], transport: "websocket" },
  };
  for (const cl of s.clients) {
    const w = want[cl.id];
    expect(w, "Stats lists a client the script does not know", { client: cl, known: Object.keys(want) });
    const keys = Object.keys(cl).sort();
    for (const k of ["connectedAt", "id", "subscriptions", "transport", "userId"]) {
      expect(keys.includes(k), `client lacks ${k}`, cl);
    }
    expect(keys.every((k) => ["connectedAt", "email", "id", "subscriptions", "transport", "userId"].includes(k)), "client has unexpected fields", cl);
    const got = { userId: cl.userId, subscriptions: [...cl.subscriptions].sort(), transport: cl.transport };
    if (cl.email !== undefined && cl.email !== "") got.email = cl.email;
    expectEqual(got, w, `Stats entry of ${w.userId}`);
    expect(isoRecent(cl.connectedAt) && Date.parse(cl.connectedAt) >= startedAt - 1000, "connectedAt", cl);
    const client = [alice, bob, carol].find((x) => x.id === cl.id);
    expect(cl.connectedAt === client.last("connected").timestamp, "connectedAt differs from the welcome's timestamp", {
      stats: cl.connectedAt,
      welcome: client.last("connected"),
    });
  }
  const order = s.clients.map((cl) => cl.connectedAt);
  expectEqual(order, [...order].sort(), "clients are not in connection order");

  // Counters named in the spec must be exact; counters added later must
  // be at rest, since nothing else happened.
  const wantCounters = {
    connections: 3,
    refused: { INVALID_TOKEN: 1 },
    eventsIn: 3, // three subscribes
    eventsOut: 6, // three `connected`, three `subscribed`
    rateLimited: 0,
    handlerErrors: 0,
    handlerPanics: 0,
    slowConsumers: 0,
  };
  const counters = s.counters;
  const known = Object.fromEntries(Object.keys(wantCounters).map((k) => [k, counters[k]]));
  expectEqual(known, wantCounters, "counters");
  const others = Object.entries(counters).filter(([k]) => !(k in wantCounters));
  for (const [k, v] of others) {
    expect(v === 0 || isDeepStrictEqual(v, {}), `counter ${k} moved although nothing it could count happened`, counters);
  }
  return s;
});

run.check("stats-after-disconnect", async () => {
  carol.socket.disconnect();
  const deadline = Date.now() + 3000;
  let s;
  while ((s = await run.ctl("stats")).connectedClients !== 2 && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 20));
  }
  expect(s.connectedClients === 2 && s.clients.length === 2, "carol is still listed after disconnecting", s);
  expectEqual(s.clients.map((cl) => cl.userId).sort(), ["alice", "bob"], "remaining clients");
  expect(s.totalSubscriptions === 3 && s.counters.connections === 3, "totals after a disconnect", s);
  return { connectedClients: s.connectedClients };
});

await run.finish();
