// Checks a running cluster of examples/cluster instances (or any gateways
// with the same routes): one stock socket.io-client per instance joins a
// room, then a POST /publish through each instance must reach the clients
// of every instance.
//
//   node test/client/redis-cluster-client.mjs --urls http://127.0.0.1:3001,http://127.0.0.1:3002
//        [--channel trading] [--token JWT] [--publish-token JWT] [--wait-emit]
//
// --token is the clients' token (none in development mode); --publish-token
// the operator token /publish needs when the instances have a JWT_SECRET.
// With --wait-emit the script then prints {"waiting":"emit",...} and waits
// up to 20 s for an event "cluster:emit" to reach every client, as
// `go run ./examples/cluster emit -room trading -event cluster:emit` sends.
//
// Output: one {"check":NAME,"ok":BOOL,"detail":...} line per check, then
// {"summary":true,"passed":N,"failed":N}; exit code 1 when a check failed.

import { parseArgs } from "node:util";
import { io } from "socket.io-client";

const { values } = parseArgs({
  options: {
    urls: { type: "string" },
    channel: { type: "string", default: "trading" },
    token: { type: "string" },
    "publish-token": { type: "string" },
    "wait-emit": { type: "boolean", default: false },
  },
});
if (!values.urls) {
  process.stderr.write("usage: node redis-cluster-client.mjs --urls URL1,URL2[,...] [--channel trading] [--token JWT] [--publish-token JWT] [--wait-emit]\n");
  process.exit(2);
}
const urls = values.urls.split(",").map((u) => u.trim().replace(/\/+$/, ""));
const room = values.channel;
const TIMEOUT_MS = 10_000;

let passed = 0;
let failed = 0;
function report(line) {
  process.stdout.write(JSON.stringify(line) + "\n");
}

async function check(name, fn, timeoutMs = TIMEOUT_MS) {
  const started = Date.now();
  let timer;
  try {
    const detail = await Promise.race([
      fn(),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`timed out after ${timeoutMs} ms`)), timeoutMs);
      }),
    ]);
    passed++;
    report({ check: name, ok: true, detail, ms: Date.now() - started });
    return true;
  } catch (err) {
    failed++;
    report({ check: name, ok: false, detail: { error: err.message }, ms: Date.now() - started });
    return false;
  } finally {
    clearTimeout(timer);
  }
}

// next resolves with the first payload of event on socket for which match
// is true, including payloads that arrived before the call.
function recorder(socket) {
  const seen = [];
  const waiters = new Set();
  socket.onAny((event, payload) => {
    seen.push({ event, payload });
    for (const w of [...waiters]) w();
  });
  return (event, match = () => true) =>
    new Promise((resolve) => {
      const look = () => {
        const hit = seen.find((s) => s.event === event && match(s.payload));
        if (hit) {
          waiters.delete(look);
          resolve(hit.payload);
        }
      };
      waiters.add(look);
      look();
    });
}

const clients = urls.map((url) => {
  const socket = io(url, {
    transports: ["websocket"],
    reconnection: false,
    forceNew: true,
    auth: values.token ? { token: values.token } : undefined,
  });
  return { url, socket, next: recorder(socket) };
});

async function publish(url, body) {
  const headers = { "content-type": "application/json" };
  if (values["publish-token"]) headers.authorization = `Bearer ${values["publish-token"]}`;
  const res = await fetch(`${url}/publish`, { method: "POST", headers, body: JSON.stringify(body) });
  const answer = await res.json().catch(() => null);
  if (!res.ok) throw new Error(`POST ${url}/publish: HTTP ${res.status} ${JSON.stringify(answer)}`);
  return answer;
}

const connected = await check("connect-and-subscribe", async () => {
  await Promise.all(
    clients.map(async (c) => {
      await new Promise((resolve, reject) => {
        c.socket.once("connect", resolve);
        c.socket.once("connect_error", (err) => reject(new Error(`${c.url}: connect_error: ${err.message}`)));
      });
      c.socket.emit("subscribe", { channel: room });
      await c.next("subscribed", (p) => p && p.room === room);
    }),
  );
  return clients.map((c) => ({ url: c.url, id: c.socket.id }));
});

if (connected) {
  const nonce = Math.random().toString(36).slice(2);
  for (const [i, via] of urls.entries()) {
    await check(`publish-via-instance-${i + 1}-reaches-all`, async () => {
      const answer = await publish(via, { room, event: "cluster:check", data: { via, nonce } });
      await Promise.all(clients.map((c) => c.next("cluster:check", (p) => p && p.via === via && p.nonce === nonce)));
      return { via, instance: answer.instance, reached: clients.length };
    });
  }

  if (values["wait-emit"]) {
    report({ waiting: "emit", room, event: "cluster:emit" });
    await check("emitter-reaches-every-instance", async () => {
      const payloads = await Promise.all(clients.map((c) => c.next("cluster:emit")));
      return { reached: clients.length, payload: payloads[0] };
    }, 20_000);
  }

  await check("cluster-stats", async () => {
    const res = await fetch(`${urls[0]}/stats`);
    const stats = await res.json();
    if (stats.cluster.instances < urls.length || stats.cluster.clients < clients.length) {
      throw new Error(`stats count fewer instances or clients than connected: ${JSON.stringify(stats.cluster)}`);
    }
    return stats.cluster;
  });
}

report({ summary: true, passed, failed });
for (const c of clients) c.socket.disconnect();
setTimeout(() => process.exit(failed > 0 ? 1 : 0), 50);
