// Shared helpers for the gateway-*.mjs scripts, which drive the stock npm
// socket.io-client against a realtime.Gateway started by a Go test.
//
// Every script is called as
//   node gateway-X.mjs --url http://127.0.0.1:PORT [--transport websocket|polling|upgrade]
// with the JSON objects GATEWAY_TOKENS (name -> JWT) and GATEWAY_URLS
// (name -> base URL of further gateways) in the environment. The Go test
// mounts a control endpoint next to the gateway: POST <url>/ctl/<op> with a
// JSON body makes the Go side call the Gateway's API (Broadcast,
// BroadcastToRoom, BroadcastToSymbol, SendToUser, Stats...) and answer once
// the call has returned, so a script can sequence "server publishes" and
// "client receives" without sleeping.
//
// Output follows conformance.mjs: one {"check":NAME,"ok":BOOL,"detail":...,
// "ms":N} line per check, then {"summary":true,...}; exit code 1 when a check
// failed, 2 on bad usage.

import { io } from "socket.io-client";
import { isDeepStrictEqual, parseArgs } from "node:util";

// ISO_MS is JavaScript's Date.prototype.toISOString format.
export const ISO_MS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

export const delay = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

export { isDeepStrictEqual };

export class CheckFailure extends Error {
  constructor(message, detail) {
    super(message);
    this.detail = detail;
  }
}

export function expect(cond, message, detail) {
  if (!cond) throw new CheckFailure(message, detail);
}

export function expectEqual(got, want, message) {
  if (!isDeepStrictEqual(got, want)) throw new CheckFailure(message, { got, want });
}

// isoRecent reports whether s is an ISO-8601 UTC millisecond timestamp
// within slackMs of now.
export function isoRecent(s, slackMs = 10_000) {
  if (typeof s !== "string" || !ISO_MS.test(s)) return false;
  const t = Date.parse(s);
  return Number.isFinite(t) && Math.abs(Date.now() - t) <= slackMs;
}

// "upgrade" is the socket.io-client default: long-polling first, then
// websocket.
const TRANSPORTS = { websocket: ["websocket"], polling: ["polling"], upgrade: ["polling", "websocket"] };

function usage(msg) {
  process.stderr.write(`${process.argv[1]}: ${msg}\nusage: node SCRIPT --url http://127.0.0.1:PORT [--transport websocket|polling|upgrade]\n`);
  process.exit(2);
}

function jsonEnv(name) {
  const raw = process.env[name];
  if (!raw) return {};
  try {
    return JSON.parse(raw);
  } catch (err) {
    usage(`${name} is not JSON: ${err.message}`);
  }
}

// Client records everything a socket receives from the moment it is
// created, so no wait can miss an event that fired before it started.
export class Client {
  constructor(run, socket, label) {
    this.run = run;
    this.socket = socket;
    this.label = label;
    this.events = new Map();
    this.waiters = new Set();
    socket.onAny((name, ...args) => this.push(name, args));
    socket.on("connect", () => this.push("connect", []));
    socket.on("connect_error", (err) => this.push("connect_error", [err]));
    socket.on("disconnect", (reason) => this.push("disconnect", [reason]));
  }

  push(name, args) {
    if (!this.events.has(name)) this.events.set(name, []);
    this.events.get(name).push(args);
    for (const w of [...this.waiters]) w();
  }

  // all returns the first argument of every occurrence of name.
  all(name) {
    return (this.events.get(name) || []).map((a) => a[0]);
  }

  count(name) {
    return (this.events.get(name) || []).length;
  }

  last(name) {
    const list = this.events.get(name) || [];
    return list.length ? list[list.length - 1][0] : undefined;
  }

  // wait resolves with the first argument of the first occurrence of name,
  // at index from or later, for which match returns true.
  wait(name, match = () => true, from = 0) {
    this.run.stage = `${this.label}: waiting for "${name}"`;
    return new Promise((resolve) => {
      const check = () => {
        const list = this.events.get(name) || [];
        for (let i = from; i < list.length; i++) {
          if (match(list[i][0], list[i])) {
            this.waiters.delete(check);
            resolve(list[i][0]);
            return;
          }
        }
      };
      this.waiters.add(check);
      check();
    });
  }

  // next resolves with the next occurrence of name after the current ones.
  next(name, match = () => true) {
    return this.wait(name, match, this.count(name));
  }

  // emitAck emits an event with a callback and resolves with the ack's
  // arguments; it fails if no ack arrives within timeoutMs.
  emitAck(event, ...args) {
    this.run.stage = `${this.label}: waiting for the ack of "${event}"`;
    return new Promise((resolve, reject) => {
      this.socket.timeout(3000).emit(event, ...args, (err, ...res) => {
        if (err) reject(new CheckFailure(`no ack for "${event}" within 3 s`, { args }));
        else resolve(res);
      });
    });
  }

  get id() {
    return this.socket.id;
  }

  get transport() {
    return this.socket.io.engine && this.socket.io.engine.transport.name;
  }

  // upgraded resolves once the engine runs on websocket.
  async upgraded() {
    const engine = this.socket.io.engine;
    if (engine.transport.name === "websocket") return;
    this.run.stage = `${this.label}: waiting for the upgrade to websocket`;
    await new Promise((resolve, reject) => {
      engine.once("upgrade", resolve);
      engine.once("upgradeError", (err) => reject(new CheckFailure(`${this.label}: upgradeError: ${err.message}`)));
    });
  }
}

// Run holds a script's configuration, its sockets and its checks.
export class Run {
  constructor() {
    let values;
    try {
      values = parseArgs({
        options: {
          url: { type: "string" },
          transport: { type: "string", default: "websocket" },
        },
      }).values;
    } catch (err) {
      usage(err.message);
    }
    if (!values.url) usage("--url is required");
    if (!TRANSPORTS[values.transport]) usage("--transport must be websocket, polling or upgrade");
    this.url = values.url.replace(/\/+$/, "");
    this.mode = values.transport;
    this.tokens = jsonEnv("GATEWAY_TOKENS");
    this.urls = jsonEnv("GATEWAY_URLS");
    this.clients = [];
    this.checks = [];
    this.stage = "starting";
    this.probes = 0;
  }

  token(name) {
    const t = this.tokens[name];
    if (typeof t !== "string") usage(`GATEWAY_TOKENS has no token ${name}`);
    return t;
  }

  // open creates a socket without waiting for it. opts.token becomes
  // auth.token; opts.url picks another gateway; the rest are
  // socket.io-client options.
  open(label, opts = {}) {
    const { token, url = this.url, ...rest } = opts;
    const options = {
      forceNew: true,
      reconnection: false,
      timeout: 5000,
      transports: TRANSPORTS[this.mode],
      ...rest,
    };
    if (token !== undefined) options.auth = { token };
    const c = new Client(this, io(url, options), label);
    this.clients.push(c);
    return c;
  }

  // connect opens a socket and resolves once the gateway's `connected`
  // welcome event has arrived; a connect_error fails the check.
  async connect(label, opts = {}) {
    const c = this.open(label, opts);
    this.stage = `${label}: connecting`;
    await Promise.race([
      c.wait("connected"),
      c.wait("connect_error").then((err) => {
        throw new CheckFailure(`${label}: connect_error: ${err.message}`, { data: err.data });
      }),
    ]);
    expect(c.socket.connected, `${label}: "connected" arrived but the socket is not connected`);
    return c;
  }

  // refused opens a socket that must be refused and resolves with the
  // connect_error it received.
  async refused(label, opts = {}) {
    const c = this.open(label, opts);
    this.stage = `${label}: waiting for connect_error`;
    const err = await Promise.race([
      c.wait("connect_error"),
      c.wait("connect").then(() => {
        throw new CheckFailure(`${label}: connected although it should have been refused`, { id: c.id });
      }),
    ]);
    expect(!c.socket.connected && c.count("connected") === 0, `${label}: refused socket got the welcome event`, {
      events: [...c.events.keys()],
    });
    return err;
  }

  // ctl asks the Go side to call the Gateway and resolves with its answer.
  async ctl(op, body = {}) {
    this.stage = `ctl ${op}`;
    const res = await fetch(`${this.url}/ctl/${op}`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(body),
    });
    const text = await res.text();
    expect(res.ok, `ctl ${op} failed with HTTP ${res.status}`, { body, answer: text });
    return text ? JSON.parse(text) : null;
  }

  // sync broadcasts a `probe` event to everyone and waits until each of
  // clients has it. Events reach a connection in the order the server
  // queued them, so once the probe is in, anything published before it
  // would have arrived too: the way to prove that something did not arrive.
  async sync(...clients) {
    const id = ++this.probes;
    await this.ctl("broadcast", { event: "probe", data: { id } });
    await Promise.all(clients.map((c) => c.wait("probe", (p) => p && p.id === id)));
  }

  check(name, fn, timeoutMs = 5000) {
    this.checks.push({ name, fn, timeoutMs });
  }

  async attempt({ fn, timeoutMs }) {
    let timer;
    try {
      const work = Promise.resolve().then(fn);
      work.catch(() => {}); // a late rejection after a timeout is already reported
      const timeout = new Promise((_, reject) => {
        timer = setTimeout(() => reject(new CheckFailure(`timed out after ${timeoutMs} ms; ${this.stage}`)), timeoutMs);
      });
      return { ok: true, detail: await Promise.race([work, timeout]) };
    } catch (err) {
      const detail = { error: err.message };
      if (err.detail !== undefined) detail.info = err.detail;
      if (!(err instanceof CheckFailure)) detail.stack = err.stack;
      return { ok: false, detail };
    } finally {
      clearTimeout(timer);
    }
  }

  // finish runs the checks in order (later checks may build on the state
  // earlier ones left), prints their lines and the summary, and exits.
  async finish() {
    let passed = 0;
    let failed = 0;
    for (const c of this.checks) {
      const started = Date.now();
      const r = await this.attempt(c);
      report({ check: c.name, ok: r.ok, detail: r.detail, ms: Date.now() - started });
      if (r.ok) passed++;
      else failed++;
    }
    report({ summary: true, passed, failed, transport: this.mode, url: this.url });
    for (const c of this.clients) c.socket.disconnect();
    // Give the disconnect packets a moment to leave before the process ends.
    await delay(50);
    process.exit(failed > 0 ? 1 : 0);
  }
}

function report(line) {
  process.stdout.write(JSON.stringify(line) + "\n");
}
