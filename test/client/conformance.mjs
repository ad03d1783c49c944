// Engine.IO v4 / Socket.IO v5 conformance checks driven by the stock npm
// socket.io-client, run against a server implementing the behaviour of
// reference-server.mjs.
//
// Usage:
//   node conformance.mjs --url http://127.0.0.1:PORT --transport websocket|polling|upgrade
//                        [--only check1,check2]
//
// Prints one JSON line per check: {"check":NAME,"ok":BOOL,"detail":...,"ms":N},
// then {"summary":true,"passed":N,"failed":M,...}. Exit code 1 when any check
// failed, 2 on bad usage.

import { io, Manager } from "socket.io-client";
import { isDeepStrictEqual, parseArgs } from "node:util";

const TRANSPORTS = {
  websocket: { transports: ["websocket"] },
  polling: { transports: ["polling"] },
  upgrade: { transports: ["polling", "websocket"], upgrade: true },
};

let args;
try {
  args = parseArgs({
    options: {
      url: { type: "string" },
      transport: { type: "string" },
      only: { type: "string" },
    },
  }).values;
} catch (err) {
  usage(err.message);
}
if (!args.url) usage("--url is required");
if (!TRANSPORTS[args.transport]) usage("--transport must be websocket, polling or upgrade");

const URL_BASE = args.url.replace(/\/+$/, "");
const MODE = args.transport;
const ONLY = args.only ? new Set(args.only.split(",").map((s) => s.trim()).filter(Boolean)) : null;

function usage(msg) {
  process.stderr.write(
    `conformance.mjs: ${msg}\n` +
      "usage: node conformance.mjs --url http://127.0.0.1:PORT --transport websocket|polling|upgrade [--only a,b]\n",
  );
  process.exit(2);
}

// ---------- helpers ----------

class CheckFailure extends Error {
  constructor(message, detail) {
    super(message);
    this.detail = detail;
  }
}

function expect(cond, message, detail) {
  if (!cond) throw new CheckFailure(message, detail);
}

const delay = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

// Records every occurrence of the named events from the moment the emitter is
// created, so a scenario never misses an event that fired before it started
// waiting for it.
class Recorder {
  constructor(emitter, names) {
    this.events = new Map();
    this.waiters = new Set();
    for (const name of names) {
      this.events.set(name, []);
      emitter.on(name, (...a) => this.push(name, a));
    }
  }

  push(name, a) {
    this.events.get(name).push(a);
    for (const w of [...this.waiters]) w();
  }

  count(name) {
    return this.events.get(name).length;
  }

  all(name) {
    return this.events.get(name);
  }

  // Resolves with the arguments of the n-th (1-based) occurrence of name.
  nth(ctx, name, n = 1) {
    ctx.stage = `waiting for "${name}" #${n}`;
    return new Promise((resolve) => {
      const check = () => {
        const list = this.events.get(name);
        if (list.length >= n) {
          this.waiters.delete(check);
          resolve(list[n - 1]);
        }
      };
      this.waiters.add(check);
      check();
    });
  }
}

const bytesOf = (x) => {
  if (Buffer.isBuffer(x)) return x;
  if (x instanceof ArrayBuffer) return Buffer.from(x);
  if (ArrayBuffer.isView(x)) return Buffer.from(x.buffer, x.byteOffset, x.byteLength);
  return null;
};

// Compact description of received values for diagnostics.
function describe(v) {
  const b = bytesOf(v);
  if (b) return { binary: b.length, head: [...b.subarray(0, 8)] };
  if (typeof v === "string" && v.length > 80) return `${v.slice(0, 40)}...(${v.length} chars)`;
  if (Array.isArray(v)) return v.map(describe);
  if (v && typeof v === "object") {
    const out = {};
    for (const [k, val] of Object.entries(v)) out[k] = describe(val);
    return out;
  }
  if (typeof v === "function") return "<function>";
  return v;
}

// Deep equality where binary values compare by bytes regardless of whether
// they arrived as Buffer, ArrayBuffer or typed array.
function sameValue(a, b) {
  const ba = bytesOf(a);
  const bb = bytesOf(b);
  if (ba || bb) return Boolean(ba && bb && ba.equals(bb));
  if (Array.isArray(a) || Array.isArray(b)) {
    return Array.isArray(a) && Array.isArray(b) && a.length === b.length && a.every((x, i) => sameValue(x, b[i]));
  }
  return isDeepStrictEqual(a, b);
}

class Context {
  constructor() {
    this.sockets = [];
    this.managers = [];
    this.stage = "starting";
    // Set by a scenario around the moment it provokes a disconnect.
    this.allowDisconnect = false;
    this.disconnects = [];
  }

  // Records disconnects the scenario did not ask for: under CPU starvation
  // the 200 ms heartbeat timeout can end a session, and the runner retries
  // such a scenario once instead of reporting a protocol failure.
  watch(socket) {
    socket.on("disconnect", (reason) => {
      if (reason === "io client disconnect") return;
      const expected = this.allowDisconnect && reason !== "ping timeout";
      this.disconnects.push({ nsp: socket.nsp, reason, expected });
    });
  }

  unexpectedDisconnects() {
    return this.disconnects.filter((d) => !d.expected);
  }

  open(nsp, extra = {}) {
    const socket = io(URL_BASE + nsp, {
      forceNew: true,
      reconnection: false,
      timeout: 3000,
      ...TRANSPORTS[MODE],
      ...extra,
    });
    this.sockets.push(socket);
    this.watch(socket);
    return socket;
  }

  manager(extra = {}) {
    const m = new Manager(URL_BASE, { reconnection: false, timeout: 3000, ...TRANSPORTS[MODE], ...extra });
    this.managers.push(m);
    return m;
  }

  socketOf(manager, nsp, opts) {
    const s = manager.socket(nsp, opts);
    this.sockets.push(s);
    this.watch(s);
    return s;
  }

  // Resolves once the socket is connected and, in upgrade mode, once its
  // engine has moved to websocket; rejects on connect_error.
  async ready(socket) {
    this.stage = `connecting ${socket.nsp}`;
    await new Promise((resolve, reject) => {
      if (socket.connected) return resolve();
      socket.once("connect", resolve);
      socket.once("connect_error", (err) =>
        reject(new CheckFailure(`connect_error on ${socket.nsp}: ${err.message}`, { data: err.data })),
      );
    });
    if (MODE === "upgrade") await this.upgraded(socket.io);
  }

  async upgraded(manager) {
    this.stage = "waiting for the engine upgrade to websocket";
    const engine = manager.engine;
    if (engine.transport.name !== "websocket") {
      await new Promise((resolve, reject) => {
        engine.once("upgrade", resolve);
        engine.once("upgradeError", (err) => reject(new CheckFailure(`upgradeError: ${err.message}`)));
      });
    }
    expect(engine.transport.name === "websocket", "engine did not upgrade", { transport: engine.transport.name });
  }

  close() {
    for (const s of this.sockets) s.disconnect();
    for (const m of this.managers) if (m.engine) m.engine.close();
  }
}

function expectedTransport() {
  return MODE === "polling" ? "polling" : "websocket";
}

async function roundTrip(ctx, socket, rec, token) {
  const before = rec.count("message-back");
  socket.emit("message", token);
  const back = await rec.nth(ctx, "message-back", before + 1);
  expect(sameValue(back, [token]), "message-back does not echo the message", { sent: token, got: describe(back) });
}

// ---------- scenarios ----------

const scenarios = [];
const scenario = (name, fn, timeoutMs = 4000, modes = null) => scenarios.push({ name, fn, timeoutMs, modes });

scenario("connect-auth", async (ctx) => {
  const auth = { token: "abc", n: 1 };
  const socket = ctx.open("/", { auth });
  const rec = new Recorder(socket, ["auth"]);
  await ctx.ready(socket);
  const [got] = await rec.nth(ctx, "auth");
  expect(isDeepStrictEqual(got, auth), "server saw different handshake auth", { sent: auth, got });
  expect(typeof socket.id === "string" && socket.id.length > 0, "socket.id is not a non-empty string", { id: socket.id });
  const transport = socket.io.engine.transport.name;
  expect(transport === expectedTransport(), "unexpected transport", { transport, expected: expectedTransport() });
  return { id: socket.id, sid: socket.io.engine.id, transport };
});

scenario(
  "upgrade",
  async (ctx) => {
    const socket = ctx.open("/");
    const rec = new Recorder(socket, ["message-back"]);
    let openedWith = null;
    socket.io.once("open", () => {
      openedWith = socket.io.engine.transport.name;
    });
    ctx.stage = "connecting /";
    await new Promise((resolve, reject) => {
      socket.once("connect", resolve);
      socket.once("connect_error", (err) => reject(new CheckFailure(`connect_error: ${err.message}`)));
    });
    const sid = socket.io.engine.id;
    await ctx.upgraded(socket.io);
    expect(openedWith === "polling", "the session did not start on polling", { openedWith });
    expect(socket.io.engine.id === sid, "the upgrade changed the session id", { before: sid, after: socket.io.engine.id });
    await roundTrip(ctx, socket, rec, "after-upgrade");
    return { openedWith, transport: socket.io.engine.transport.name, sid };
  },
  4000,
  ["upgrade"],
);

scenario("connect-error", async (ctx) => {
  const socket = ctx.open("/refuse");
  const rec = new Recorder(socket, ["connect", "connect_error"]);
  const [err] = await rec.nth(ctx, "connect_error");
  const detail = { message: err.message, data: err.data };
  expect(err.message === "refused by server", "unexpected connect_error message", detail);
  expect(isDeepStrictEqual(err.data, { code: "NOPE", reason: "test" }), "unexpected connect_error data", detail);
  expect(rec.count("connect") === 0 && !socket.connected, "socket connected despite the refusal", detail);
  return detail;
});

scenario("json-both-ways", async (ctx) => {
  const sent = [1, "two", { three: [3, true, null] }, [4.5]];
  const socket = ctx.open("/");
  const rec = new Recorder(socket, ["message-back"]);
  await ctx.ready(socket);
  socket.emit("message", ...sent);
  const got = await rec.nth(ctx, "message-back");
  expect(isDeepStrictEqual(got, sent), "message-back args differ", { sent, got });
  return { args: got };
});

scenario("binary-both-ways", async (ctx) => {
  const sent = [Buffer.from([1, 2, 3]), "x", Buffer.from([]), Buffer.alloc(70000, 7)];
  const socket = ctx.open("/");
  const rec = new Recorder(socket, ["message-back"]);
  await ctx.ready(socket);
  socket.emit("message", ...sent);
  const got = await rec.nth(ctx, "message-back");
  const detail = { sent: describe(sent), got: describe(got) };
  expect(got.length === sent.length, "wrong number of args", detail);
  for (const i of [0, 2, 3]) expect(bytesOf(got[i]) !== null, `arg ${i} is not binary`, detail);
  expect(sameValue(got, sent), "binary args differ", detail);
  return { got: describe(got) };
});

scenario("ack-client-to-server", async (ctx) => {
  const socket = ctx.open("/");
  await ctx.ready(socket);
  const ack = (...a) =>
    new Promise((resolve, reject) => {
      ctx.stage = `waiting for the ack of ${JSON.stringify(describe(a))}`;
      socket.timeout(2000).emit("message-with-ack", ...a, (err, ...res) => (err ? reject(err) : resolve(res)));
    });

  const plain = [1, "b", { c: 3 }];
  const gotPlain = await ack(...plain);
  expect(isDeepStrictEqual(gotPlain, plain), "ack args differ", { sent: plain, got: gotPlain });

  const bin = [Buffer.from([9, 8, 7]), "z"];
  const gotBin = await ack(...bin);
  expect(sameValue(gotBin, bin) && bytesOf(gotBin[0]) !== null, "binary ack args differ", {
    sent: describe(bin),
    got: describe(gotBin),
  });

  ctx.stage = "waiting for emitWithAck";
  const single = await socket.timeout(2000).emitWithAck("message-with-ack", "single");
  expect(single === "single", "emitWithAck resolved with the wrong value", { got: single });
  return { plain: gotPlain, binary: describe(gotBin), emitWithAck: single };
});

scenario("ack-client-timeout", async (ctx) => {
  const socket = ctx.open("/");
  await ctx.ready(socket);
  ctx.stage = "waiting for the client-side ack timeout";
  const started = Date.now();
  const [err, ...rest] = await new Promise((resolve) => socket.timeout(300).emit("no-ack", (...a) => resolve(a)));
  const elapsed = Date.now() - started;
  const detail = { error: err && err.message, rest, elapsedMs: elapsed };
  expect(err instanceof Error, "callback did not receive a timeout error", detail);
  expect(elapsed >= 250, "timeout fired too early", detail);
  expect(socket.connected, "socket disconnected while waiting", detail);
  return detail;
});

scenario("ack-server-to-client", async (ctx) => {
  const socket = ctx.open("/");
  const rec = new Recorder(socket, ["server-ack-result"]);
  let received = null;
  socket.on("need-ack", (...a) => {
    const cb = a.pop();
    received = a;
    if (typeof cb === "function") cb("pong-from-client", { n: 2 });
  });
  await ctx.ready(socket);
  socket.emit("server-ack");
  const [result] = await rec.nth(ctx, "server-ack-result");
  const want = { ok: true, args: ["pong-from-client", { n: 2 }] };
  expect(isDeepStrictEqual(received, ["ping-from-server"]), "need-ack carried unexpected args", { received });
  expect(isDeepStrictEqual(result, want), "server saw a different ack", { got: result, want });
  return { needAck: received, result };
});

scenario("ack-server-timeout", async (ctx) => {
  const socket = ctx.open("/");
  const rec = new Recorder(socket, ["server-ack-result", "need-ack"]);
  await ctx.ready(socket);
  socket.emit("server-ack", { timeoutMs: 200 });
  const [result] = await rec.nth(ctx, "server-ack-result");
  const needAck = rec.all("need-ack")[0];
  expect(needAck && typeof needAck[needAck.length - 1] === "function", "need-ack did not request an ack", {
    needAck: describe(needAck),
  });
  expect(isDeepStrictEqual(result, { ok: false, error: "timeout" }), "unexpected server-ack-result", { got: result });
  return { result };
});

scenario("custom-namespace", async (ctx) => {
  const auth = { token: "c" };
  const socket = ctx.open("/custom", { auth });
  const rec = new Recorder(socket, ["auth"]);
  await ctx.ready(socket);
  const [got] = await rec.nth(ctx, "auth");
  expect(isDeepStrictEqual(got, auth), "server saw different handshake auth", { sent: auth, got });
  expect(typeof socket.id === "string" && socket.id.length > 0, "socket.id is empty", { id: socket.id });
  return { id: socket.id, auth: got };
});

scenario("multiplex", async (ctx) => {
  const manager = ctx.manager();
  const rootAuth = { token: "root" };
  const customAuth = { token: "custom" };
  const root = ctx.socketOf(manager, "/", { auth: rootAuth });
  const custom = ctx.socketOf(manager, "/custom", { auth: customAuth });
  const recRoot = new Recorder(root, ["auth", "message-back", "disconnect"]);
  const recCustom = new Recorder(custom, ["auth", "disconnect"]);
  await ctx.ready(root);
  await ctx.ready(custom);
  const [gotRoot] = await recRoot.nth(ctx, "auth");
  const [gotCustom] = await recCustom.nth(ctx, "auth");
  const sid = manager.engine.id;
  const detail = { sid, rootSid: root.io.engine.id, customSid: custom.io.engine.id, gotRoot, gotCustom };
  expect(root.io === manager && custom.io === manager, "sockets do not share the manager", detail);
  expect(root.io.engine.id === custom.io.engine.id && typeof sid === "string" && sid.length > 0, "Engine.IO ids differ", detail);
  expect(isDeepStrictEqual(gotRoot, rootAuth), "/ saw different auth", detail);
  expect(isDeepStrictEqual(gotCustom, customAuth), "/custom saw different auth", detail);
  const ids = { root: root.id, custom: custom.id };
  expect(ids.root !== ids.custom, "both namespaces got the same socket id", ids);

  custom.disconnect();
  ctx.stage = "round trip on / after disconnecting /custom";
  await roundTrip(ctx, root, recRoot, "still-here");
  expect(root.connected && !custom.connected, "unexpected connection states", {
    root: root.connected,
    custom: custom.connected,
  });
  expect(recRoot.count("disconnect") === 0, "/ was disconnected", { reasons: recRoot.all("disconnect") });
  expect(manager.engine.id === sid, "the Engine.IO session changed", { before: sid, after: manager.engine.id });
  return { sid, ...ids };
});

scenario("server-disconnect", async (ctx) => {
  const socket = ctx.open("/", { reconnection: true, reconnectionDelay: 100, reconnectionDelayMax: 100 });
  const rec = new Recorder(socket, ["connect", "disconnect"]);
  await ctx.ready(socket);
  ctx.allowDisconnect = true;
  socket.emit("disconnect-me");
  const [reason] = await rec.nth(ctx, "disconnect");
  ctx.allowDisconnect = false;
  expect(reason === "io server disconnect", "unexpected disconnect reason", { reason });
  expect(socket.active === false, "socket is still active (would reconnect)", { active: socket.active });
  // A reconnection would happen after reconnectionDelay (100 ms); watch for
  // well past it.
  ctx.stage = "watching for an unwanted reconnection";
  await delay(400);
  expect(rec.count("connect") === 1 && !socket.connected, "socket reconnected by itself", {
    connects: rec.count("connect"),
  });
  return { reason, active: socket.active };
});

scenario("reconnect-after-drop", async (ctx) => {
  const auth = { token: "again" };
  const socket = ctx.open("/", { auth, reconnection: true, reconnectionDelay: 100, reconnectionDelayMax: 100 });
  const rec = new Recorder(socket, ["connect", "disconnect", "auth"]);
  await ctx.ready(socket);
  await rec.nth(ctx, "auth", 1);
  const firstSid = socket.io.engine.id;
  ctx.allowDisconnect = true;
  socket.emit("drop-transport");
  const [reason] = await rec.nth(ctx, "disconnect");
  ctx.allowDisconnect = false;
  expect(reason === "transport close" || reason === "transport error", "unexpected disconnect reason", { reason });
  await rec.nth(ctx, "connect", 2);
  const [again] = await rec.nth(ctx, "auth", 2);
  expect(isDeepStrictEqual(again, auth), "auth after reconnection differs", { got: again });
  const secondSid = socket.io.engine.id;
  expect(secondSid !== firstSid, "reconnected on the same Engine.IO session", { firstSid, secondSid });
  return { reason, firstSid, secondSid };
});

scenario("payload-too-large", async (ctx) => {
  const socket = ctx.open("/");
  const rec = new Recorder(socket, ["disconnect", "message-back"]);
  await ctx.ready(socket);
  ctx.allowDisconnect = true;
  socket.emit("message", "x".repeat(1_100_000));
  const [reason] = await rec.nth(ctx, "disconnect");
  ctx.allowDisconnect = false;
  const detail = { reason, echoed: rec.count("message-back") > 0 };
  expect(reason === "transport close" || reason === "transport error", "unexpected disconnect reason", detail);
  expect(!detail.echoed, "the oversized message was accepted", detail);

  const fresh = ctx.open("/");
  const recFresh = new Recorder(fresh, ["message-back"]);
  await ctx.ready(fresh);
  await roundTrip(ctx, fresh, recFresh, "after-too-large");
  return detail;
});

scenario(
  "ping-pong",
  async (ctx) => {
    const socket = ctx.open("/");
    const rec = new Recorder(socket, ["disconnect"]);
    await ctx.ready(socket);
    const engine = socket.io.engine;
    const sid = engine.id;
    let pings = 0;
    engine.on("ping", () => pings++);
    ctx.stage = "idling for 1.5 s";
    await delay(1500);
    const detail = { pings, sid, connected: socket.connected, disconnects: rec.all("disconnect") };
    expect(socket.connected && rec.count("disconnect") === 0, "socket disconnected while idle", detail);
    expect(socket.io.engine === engine && engine.id === sid, "the Engine.IO session changed", detail);
    expect(pings >= 3, "fewer than 3 pings received", detail);
    return detail;
  },
  5000,
);

// ---------- runner ----------

function report(line) {
  process.stdout.write(JSON.stringify(line) + "\n");
}

async function attempt({ fn, timeoutMs }) {
  const ctx = new Context();
  let timer;
  try {
    const work = fn(ctx);
    work.catch(() => {}); // a late rejection after a timeout is already reported
    const timeout = new Promise((_, reject) => {
      timer = setTimeout(() => reject(new CheckFailure(`timed out after ${timeoutMs} ms ${ctx.stage}`)), timeoutMs);
    });
    return { ok: true, detail: await Promise.race([work, timeout]) };
  } catch (err) {
    const detail = { error: err.message };
    if (err.detail !== undefined) detail.info = err.detail;
    if (!(err instanceof CheckFailure)) detail.stack = err.stack;
    if (ctx.disconnects.length > 0) detail.disconnects = ctx.disconnects;
    return { ok: false, detail, retryable: ctx.unexpectedDisconnects().length > 0 };
  } finally {
    clearTimeout(timer);
    ctx.close();
  }
}

// A scenario whose session was lost to an unrequested disconnect (typically
// a heartbeat timeout while the machine is starved of CPU) is run once more;
// the line then carries "retried" with the first failure so it stays visible.
async function runScenario(s) {
  const started = Date.now();
  let result = await attempt(s);
  let retried;
  if (!result.ok && result.retryable) {
    retried = result.detail;
    process.stderr.write(`conformance: ${s.name} lost its session, retrying: ${JSON.stringify(retried)}\n`);
    result = await attempt(s);
  }
  const line = { check: s.name, ok: result.ok, detail: result.detail, ms: Date.now() - started };
  if (retried) line.retried = retried;
  report(line);
  return result.ok;
}

let passed = 0;
let failed = 0;
const selected = scenarios.filter((s) => (!s.modes || s.modes.includes(MODE)) && (!ONLY || ONLY.has(s.name)));
if (ONLY) {
  for (const name of ONLY) {
    if (!scenarios.some((s) => s.name === name)) usage(`unknown check ${name}`);
  }
}
for (const s of selected) {
  if (await runScenario(s)) passed++;
  else failed++;
}
report({ summary: true, passed, failed, transport: MODE, url: URL_BASE });
// Reconnection timers of closed clients must not keep the process alive.
process.exit(failed > 0 ? 1 : 0);
