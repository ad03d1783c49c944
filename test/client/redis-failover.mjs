// Redis restarting under two Go gateways (redisadapter): local delivery
// goes on while Redis is down, clients can still connect, and delivery
// between the gateways comes back by itself once Redis is back.
//
//   node redis-failover.mjs --url <go1> [--transport websocket|polling|upgrade]
//
// GATEWAY_URLS: {"go2": <second Go gateway>}. Both gateways take the token
// as the user id and serve /ctl/{emit,stats}; go1 also serves
// /ctl/redis-kill and /ctl/redis-restart, which kill redis-server and
// start it again on the same port.

import { Run, delay, expect, expectEqual } from "./gateway-lib.mjs";

const run = new Run();
const go1 = run.url;
const go2 = run.urls.go2;
if (!go2) {
  process.stderr.write("redis-failover.mjs needs GATEWAY_URLS {go2}\n");
  process.exit(2);
}

let g1, g2;

async function ctlAt(base, op, body = {}) {
  run.stage = `ctl ${op} on ${base}`;
  const res = await fetch(`${base}/ctl/${op}`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  const text = await res.text();
  expect(res.ok, `ctl ${op} on ${base} failed with HTTP ${res.status}`, { body, answer: text });
  return text ? JSON.parse(text) : null;
}

const ids = (c) => c.all("order:filled").map((p) => p.id);

async function subscribe(c) {
  c.socket.emit("subscribe", { channel: "trading" });
  await c.wait("subscribed", (p) => p && p.room === "trading");
}

run.check("connect", async () => {
  g1 = await run.connect("g1", { token: "alice" });
  g2 = await run.connect("g2", { token: "bob", url: go2 });
  await subscribe(g1);
  await subscribe(g2);
  return { g1: g1.id, g2: g2.id };
});

run.check("cross-instance-delivery", async () => {
  const answer = await ctlAt(go1, "emit", { rooms: ["trading"], event: "order:filled", data: { id: 1 } });
  expect(answer.ok, "publishing failed", answer);
  await g1.wait("order:filled", (p) => p.id === 1);
  await g2.wait("order:filled", (p) => p.id === 1);
  return answer;
});

run.check("local-delivery-while-redis-is-down", async () => {
  await ctlAt(go1, "redis-kill");
  const answers = [];
  for (let id = 2; id <= 4; id++) {
    answers.push(await ctlAt(go1, "emit", { rooms: ["trading"], event: "order:filled", data: { id } }));
    await g1.wait("order:filled", (p) => p.id === id);
  }
  await ctlAt(go2, "emit", { rooms: ["trading"], event: "order:filled", data: { id: 5 } });
  await g2.wait("order:filled", (p) => p.id === 5);
  // A client can still connect, subscribe and be served.
  const g3 = await run.connect("g3", { token: "carol" });
  await subscribe(g3);
  await ctlAt(go1, "emit", { rooms: ["trading"], event: "order:filled", data: { id: 6 } });
  await g3.wait("order:filled", (p) => p.id === 6);
  expect(answers.every((a) => a.ok || a.unavailable), "publishing failed with something other than ErrUnavailable", answers);
  return { answers };
}, 15000);

run.check("cross-instance-delivery-resumes-after-restart", async () => {
  await ctlAt(go1, "redis-restart");
  const started = Date.now();
  // Publish until one gets through: the gateways reconnect on their own.
  for (let id = 100; ; id++) {
    expect(Date.now() - started < 15000, "no delivery from go1 to go2 within 15 s of the restart", { g2: ids(g2) });
    await ctlAt(go1, "emit", { rooms: ["trading"], event: "order:filled", data: { id } });
    const arrived = await Promise.race([g2.wait("order:filled", (p) => p.id >= 100).then(() => true), delay(200).then(() => false)]);
    if (arrived) break;
  }
  const recoveredMs = Date.now() - started;
  // And the other way round.
  await ctlAt(go2, "emit", { rooms: ["trading"], event: "order:filled", data: { id: 1000 } });
  await g1.wait("order:filled", (p) => p.id === 1000);
  return { recoveredMs };
}, 20000);

run.check("cluster-stats-after-restart", async () => {
  const stats = await ctlAt(go1, "stats");
  expectEqual({ instances: stats.instances, clients: stats.clients }, { instances: 2, clients: 3 }, "ClusterStats after the restart");
  expect(stats.adapter.resubscriptions >= 1, "go1's adapter counted no resubscription", stats.adapter);
  return stats;
});

await run.finish();
