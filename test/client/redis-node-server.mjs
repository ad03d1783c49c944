// A Node Socket.IO 4.8 server in a Redis cluster: socket.io with
// @socket.io/redis-adapter 8.x (classic pub/sub mode) on the node `redis`
// client, as a Node deployment would run it next to Go gateways.
//
// Usage: node redis-node-server.mjs --redis redis://127.0.0.1:N/0 [--port 0]
//
// Prints {"ready":true,"port":N} once listening. Exits on SIGTERM, SIGINT,
// or when stdin (a pipe from the test) closes.
//
// Clients join rooms with the "join" event (rooms, ack) and answer "ask"
// broadcasts with acknowledgements. A control endpoint drives the
// server's cluster-wide API and answers once the call has been made and
// its Redis traffic flushed, so a test can sequence steps without sleeping:
//
//   POST /ctl/emit       {rooms, except, event, data, binary(base64)}
//   POST /ctl/join       {rooms, except, join: [...]}     io.in(rooms).socketsJoin
//   POST /ctl/disconnect {rooms, except}                  disconnectSockets
//   POST /ctl/ack        {rooms, event, timeout}          emitWithAck
//   POST /ctl/stats      {}  serverCount, fetchSockets, allRooms

import { createServer } from "node:http";
import { fstatSync } from "node:fs";
import { parseArgs } from "node:util";
import { Server } from "socket.io";
import { createClient } from "redis";
import { createAdapter } from "@socket.io/redis-adapter";

const { values } = parseArgs({
  options: {
    port: { type: "string", default: "0" },
    host: { type: "string", default: "127.0.0.1" },
    redis: { type: "string" },
  },
});
if (!values.redis) {
  process.stderr.write("usage: node redis-node-server.mjs --redis redis://127.0.0.1:N/0 [--port 0]\n");
  process.exit(2);
}

const pub = createClient({ url: values.redis });
const sub = pub.duplicate();
for (const c of [pub, sub]) c.on("error", (err) => process.stderr.write(`redis: ${err.message}\n`));
await Promise.all([pub.connect(), sub.connect()]);

const httpServer = createServer(control);
const io = new Server(httpServer, {
  adapter: createAdapter(pub, sub, { requestsTimeout: 3000 }),
  cors: { origin: "*" },
});

io.on("connection", (socket) => {
  socket.on("join", (rooms, ack) => {
    socket.join(rooms);
    if (typeof ack === "function") ack(socket.id);
  });
});

// selected applies {rooms, except} to the server's broadcast operator.
function selected(body) {
  let op = io.of("/");
  if (body.rooms && body.rooms.length) op = op.in(body.rooms);
  if (body.except && body.except.length) op = op.except(body.except);
  return op;
}

const ops = {
  async emit(body) {
    const arg = body.binary !== undefined ? Buffer.from(body.binary, "base64") : body.data;
    selected(body).emit(body.event, arg);
    // Commands on one connection run in order: once PING is answered,
    // Redis has passed the broadcast to every subscriber.
    await pub.ping();
    return { ok: true };
  },
  async join(body) {
    selected(body).socketsJoin(body.join);
    await pub.ping();
    return { ok: true };
  },
  async disconnect(body) {
    selected(body).disconnectSockets();
    await pub.ping();
    return { ok: true };
  },
  async ack(body) {
    const started = Date.now();
    try {
      const responses = await selected(body).timeout(body.timeout).emitWithAck(body.event);
      return { ok: true, responses, ms: Date.now() - started };
    } catch (err) {
      return { ok: false, error: err.message, ms: Date.now() - started };
    }
  },
  async stats() {
    const adapter = io.of("/").adapter;
    const fetched = await io.fetchSockets();
    return {
      serverCount: await adapter.serverCount(),
      fetchSockets: fetched.map((s) => ({ id: s.id, rooms: [...s.rooms].sort() })),
      allRooms: [...(await adapter.allRooms())].sort(),
    };
  },
};

function control(req, res) {
  const op = req.url.startsWith("/ctl/") ? ops[req.url.slice(5)] : undefined;
  if (req.method !== "POST" || !op) {
    res.writeHead(404).end();
    return;
  }
  let body = "";
  req.on("data", (chunk) => (body += chunk));
  req.on("end", async () => {
    try {
      const answer = await op(body ? JSON.parse(body) : {});
      res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(answer));
    } catch (err) {
      res.writeHead(500, { "content-type": "text/plain" }).end(String(err.stack || err));
    }
  });
}

let closing = false;
function shutdown(code) {
  if (closing) return;
  closing = true;
  io.close(async () => {
    await Promise.allSettled([pub.quit(), sub.quit()]);
    process.exit(code);
  });
  setTimeout(() => process.exit(code), 1000).unref();
}
process.on("SIGTERM", () => shutdown(0));
process.on("SIGINT", () => shutdown(0));

let stdinIsPipe = false;
try {
  const st = fstatSync(0);
  stdinIsPipe = st.isFIFO() || st.isSocket();
} catch {
  stdinIsPipe = false;
}
if (stdinIsPipe) {
  process.stdin.on("end", () => shutdown(0));
  process.stdin.on("close", () => shutdown(0));
  process.stdin.resume();
}

httpServer.on("error", (err) => {
  process.stderr.write(`redis-node-server: ${err.stack || err}\n`);
  process.exit(1);
});
httpServer.listen(Number(values.port), values.host, () => {
  process.stdout.write(JSON.stringify({ ready: true, port: httpServer.address().port }) + "\n");
});
