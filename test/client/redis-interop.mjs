// A mixed cluster on one Redis: two Go gateways (redisadapter), a Node
// Socket.IO 4.8 server (@socket.io/redis-adapter 8.x, redis-node-server.mjs)
// and a Node @socket.io/redis-emitter 5.x. Stock socket.io-client
// connections on each server must receive what any of them publishes, by
// room, by user room, with exclusions and with binary arguments; room
// operations and counts must span the cluster.
//
//   node redis-interop.mjs --url <go1> [--transport websocket|polling|upgrade]
//
// GATEWAY_URLS: {"go2": <second Go gateway>, "node": <Node server>};
// REDIS_URL: the cluster's Redis. Each Go gateway takes the token as the
// user id and serves /ctl/{emit,join,disconnect,stats,emitter} (see
// redisadapter's gateway tests); the Node server serves its own /ctl/.

import { createClient } from "redis";
import { Emitter } from "@socket.io/redis-emitter";
import { Run, expect, expectEqual } from "./gateway-lib.mjs";

const run = new Run();
const go1 = run.url;
const go2 = run.urls.go2;
const node = run.urls.node;
const redisUrl = process.env.REDIS_URL;
if (!go2 || !node || !redisUrl) {
  process.stderr.write("redis-interop.mjs needs GATEWAY_URLS {go2, node} and REDIS_URL\n");
  process.exit(2);
}

// g1: alice on go1; g2: alice on go2; g3: bob on go2; n1: a Node socket.
let g1, g2, g3, n1;
let redis, emitter;
let probes = 0;

// ctlAt drives one server of the cluster and resolves with its answer.
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

// sync broadcasts a probe to everyone through the server at via, and waits
// for it on each client. Messages pass through Redis in order, so once the
// probe is in, whatever reached Redis before it has arrived, except at
// via's own clients, which get the probe straight away: a check that
// publishes through Redis syncs through two servers.
async function sync(via, ...clients) {
  const id = ++probes;
  await ctlAt(via, "emit", { event: "probe", data: { id } });
  await Promise.all(clients.map((c) => c.wait("probe", (p) => p && p.id === id)));
}

// got returns, per client, the sorted ids of the payloads of event it
// received: events from different servers may interleave.
function got(event, clients) {
  const out = {};
  for (const [name, c] of Object.entries(clients)) {
    out[name] = c.all(event).map((p) => p && p.id).sort((a, b) => a - b);
  }
  return out;
}

const everyone = () => ({ g1, g2, g3, n1 });

// bytes turns a received binary argument (Buffer or ArrayBuffer) into an
// array of numbers.
const bytes = (b) => [...Buffer.from(b)];

async function subscribe(c, payload, room) {
  c.socket.emit("subscribe", payload);
  await c.wait("subscribed", (p) => p && p.room === room);
}

run.check("connect", async () => {
  g1 = await run.connect("g1", { token: "alice" });
  g2 = await run.connect("g2", { token: "alice", url: go2 });
  g3 = await run.connect("g3", { token: "bob", url: go2 });
  n1 = run.open("n1", { url: node });
  await n1.wait("connect");
  await subscribe(g1, { channel: "trading" }, "trading");
  await subscribe(g2, { channel: "trading" }, "trading");
  await subscribe(g2, { channel: "market-data", symbols: ["BTC/USD"] }, "market-data:BTC/USD");
  await subscribe(g3, { channel: "market-data" }, "market-data");
  await n1.emitAck("join", ["trading", "vip"]);
  n1.socket.on("ask", (ack) => ack("n1-ok"));
  redis = createClient({ url: redisUrl });
  redis.on("error", () => {});
  await redis.connect();
  emitter = new Emitter(redis);
  return { g1: g1.id, g2: g2.id, g3: g3.id, n1: n1.id };
});

run.check("go-room-broadcast-reaches-go-and-node", async () => {
  const data = { id: 1, orderId: "o-1", price: 43250.5, qty: 0.25, tags: ["a", null], ok: true };
  await ctlAt(go1, "emit", { rooms: ["trading"], event: "order:filled", data });
  await sync(go1, g1, g2, g3, n1);
  const ids = got("order:filled", everyone());
  expectEqual(ids, { g1: [1], g2: [1], g3: [], n1: [1] }, "delivery of go1's broadcast to room trading");
  expectEqual(n1.last("order:filled"), data, "payload changed on its way to the Node server");
  expectEqual(g2.last("order:filled"), data, "payload changed on its way to go2");
  return ids;
});

run.check("node-room-broadcast-reaches-go", async () => {
  const data = { id: 2, nested: { deep: [1, 2, { x: "y" }] }, text: "é \u2028 \"quoted\"" };
  await ctlAt(node, "emit", { rooms: ["trading"], event: "order:filled", data });
  await sync(node, g1, g2, g3, n1);
  const ids = got("order:filled", everyone());
  expectEqual(ids, { g1: [1, 2], g2: [1, 2], g3: [], n1: [1, 2] }, "delivery of the Node server's broadcast to room trading");
  expectEqual(g1.last("order:filled"), data, "payload changed on its way from Node to go1");
  return ids;
});

run.check("multi-room-broadcasts-with-exclusions", async () => {
  // From Go: n1 is excluded through its room vip, on the Node server.
  await ctlAt(go2, "emit", { rooms: ["market-data", "trading"], except: ["vip"], event: "ticker:update", data: { id: 3 } });
  // From Node: g2 is excluded through its room market-data:BTC/USD, on go2.
  await ctlAt(node, "emit", { rooms: ["market-data", "trading"], except: ["market-data:BTC/USD"], event: "ticker:update", data: { id: 4 } });
  await sync(go2, g1, g2, g3, n1);
  await sync(node, g1, g2, g3, n1);
  const ids = got("ticker:update", everyone());
  expectEqual(ids, { g1: [3, 4], g2: [3], g3: [3, 4], n1: [4] }, "each selected client once, excluded ones never");
  return ids;
});

run.check("binary-arguments-both-ways", async () => {
  await ctlAt(go1, "emit", { rooms: ["trading"], event: "snapshot", binary: Buffer.from([0, 1, 2, 255]).toString("base64") });
  const fromGo = await n1.wait("snapshot");
  const onGo2 = await g2.wait("snapshot");
  expectEqual(bytes(fromGo), [0, 1, 2, 255], "Go binary argument as the Node server's client sees it");
  expectEqual(bytes(onGo2), [0, 1, 2, 255], "Go binary argument on go2");
  await ctlAt(node, "emit", { rooms: ["trading"], event: "snapshot-node", binary: Buffer.from([9, 8, 7]).toString("base64") });
  const fromNode = await g1.wait("snapshot-node");
  expectEqual(bytes(fromNode), [9, 8, 7], "Node binary argument as go1's client sees it");
  return { fromGo: bytes(fromGo), fromNode: bytes(fromNode) };
});

run.check("node-emitter-by-room-user-and-everyone", async () => {
  emitter.to("trading").emit("order:filled", { id: 5 });
  emitter.to("user:alice").emit("position:updated", { id: 6 });
  emitter.emit("announcement", { id: 7 });
  await redis.ping();
  await sync(go1, g1, g2, g3, n1);
  await sync(go2, g1, g2, g3, n1);
  const ids = {
    room: got("order:filled", everyone()),
    user: got("position:updated", everyone()),
    all: got("announcement", everyone()),
  };
  expectEqual(ids, {
    room: { g1: [1, 2, 5], g2: [1, 2, 5], g3: [], n1: [1, 2, 5] },
    user: { g1: [6], g2: [6], g3: [], n1: [] },
    all: { g1: [7], g2: [7], g3: [7], n1: [7] },
  }, "redis-emitter delivery");
  return ids;
});

run.check("go-emitter-by-room-and-user", async () => {
  await ctlAt(go1, "emitter", { user: "bob", event: "balance:updated", data: { id: 8 } });
  await ctlAt(go1, "emitter", { rooms: ["trading"], event: "order:filled", data: { id: 9 } });
  await sync(go1, g1, g2, g3, n1);
  await sync(go2, g1, g2, g3, n1);
  const ids = { user: got("balance:updated", everyone()), room: got("order:filled", everyone()) };
  expectEqual(ids, {
    user: { g1: [], g2: [], g3: [8], n1: [] },
    room: { g1: [1, 2, 5, 9], g2: [1, 2, 5, 9], g3: [], n1: [1, 2, 5, 9] },
  }, "Go Emitter delivery");
  return ids;
});

run.check("cluster-counts", async () => {
  const goStats = await ctlAt(go1, "stats");
  expectEqual({ instances: goStats.instances, clients: goStats.clients }, { instances: 3, clients: 4 }, "go1's ClusterStats");
  const nodeStats = await ctlAt(node, "stats");
  expect(nodeStats.serverCount === 3, "the Node server counts 3 servers", nodeStats);
  const fetchedIds = nodeStats.fetchSockets.map((s) => s.id).sort();
  expectEqual(fetchedIds, [g1.id, g2.id, g3.id, n1.id].sort(), "fetchSockets on the Node server");
  const fetched = Object.fromEntries(nodeStats.fetchSockets.map((s) => [s.id, s.rooms]));
  expectEqual(fetched[g2.id], [g2.id, "market-data:BTC/USD", "trading", "user:alice"].sort(), "g2's rooms as fetchSockets reports them");
  expect(nodeStats.allRooms.includes("market-data") && nodeStats.allRooms.includes("vip"), "allRooms spans the cluster", nodeStats.allRooms);
  return { go: goStats, node: nodeStats.serverCount };
});

run.check("sockets-join-across-servers", async () => {
  // The Node server makes alice's Go connections join a room, then
  // publishes to it; a Go gateway does the same to the Node socket in room
  // vip. Each server's request and broadcast reach the others in order.
  await ctlAt(node, "join", { rooms: ["user:alice"], join: ["vip-go"] });
  await ctlAt(node, "emit", { rooms: ["vip-go"], event: "vip", data: { id: 10 } });
  await ctlAt(go2, "join", { rooms: ["vip"], join: ["from-go"] });
  await ctlAt(go2, "emit", { rooms: ["from-go"], event: "vip", data: { id: 11 } });
  await sync(node, g1, g2, g3, n1);
  await sync(go2, g1, g2, g3, n1);
  const ids = got("vip", everyone());
  expectEqual(ids, { g1: [10], g2: [10], g3: [], n1: [11] }, "delivery to rooms joined from another server");
  return ids;
});

run.check("node-broadcast-with-ack-completes", async () => {
  const answer = await ctlAt(node, "ack", { rooms: ["trading"], event: "ask", timeout: 3000 });
  expect(answer.ok, "emitWithAck from the Node server failed", answer);
  expectEqual(answer.responses, ["n1-ok"], "acknowledgements");
  await sync(node, g1, g2);
  expect(g1.count("ask") === 0 && g2.count("ask") === 0, "Go clients received a broadcast that expects acknowledgements", {});
  return answer;
});

run.check("disconnect-sockets-across-servers", async () => {
  await ctlAt(go1, "disconnect", { rooms: ["vip"] });
  const nodeReason = await n1.wait("disconnect");
  await ctlAt(node, "disconnect", { rooms: ["user:bob"] });
  const goReason = await g3.wait("disconnect");
  expectEqual([nodeReason, goReason], ["io server disconnect", "io server disconnect"], "disconnect reasons");
  expect(g1.socket.connected && g2.socket.connected, "other clients were disconnected too", {});
  return { nodeReason, goReason };
});

await run.finish();
