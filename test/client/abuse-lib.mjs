// Shared helpers for the abuse-*.mjs scripts, which drive the stock npm
// socket.io-client against a realtime.Gateway that a Go test attacks.
//
// Every script is called as
//   node abuse-X.mjs --url http://127.0.0.1:PORT
// with GATEWAY_TOKENS (a JSON object, name -> JWT) and script-specific
// variables in the environment. The scripts run alongside the Go test:
// they print {"step":NAME,...} lines the test waits for, and the test
// answers through the gateway itself (an event it broadcasts), so neither
// side sleeps to synchronise.
//
// Results follow conformance.mjs: one {"check":NAME,"ok":BOOL,"detail":...}
// line per check, then {"summary":true,...}; exit code 1 when a check
// failed, 2 on bad usage.

import { io } from "socket.io-client";
import { parseArgs } from "node:util";

export const delay = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

export function report(line) {
  process.stdout.write(JSON.stringify(line) + "\n");
}

function usage(msg) {
  process.stderr.write(`${process.argv[1]}: ${msg}\nusage: node SCRIPT --url http://127.0.0.1:PORT\n`);
  process.exit(2);
}

// config returns the gateway URL, the tokens and a reader of numeric
// environment variables.
export function config() {
  let values;
  try {
    values = parseArgs({ options: { url: { type: "string" } } }).values;
  } catch (err) {
    usage(err.message);
  }
  if (!values.url) usage("--url is required");
  let tokens = {};
  try {
    tokens = JSON.parse(process.env.GATEWAY_TOKENS || "{}");
  } catch (err) {
    usage(`GATEWAY_TOKENS is not JSON: ${err.message}`);
  }
  return {
    url: values.url.replace(/\/+$/, ""),
    token(name) {
      if (typeof tokens[name] !== "string") usage(`GATEWAY_TOKENS has no token ${name}`);
      return tokens[name];
    },
    int(name, def) {
      const raw = process.env[name];
      if (raw === undefined || raw === "") return def;
      const n = Number(raw);
      if (!Number.isInteger(n)) usage(`${name} must be an integer`);
      return n;
    },
  };
}

export class CheckFailure extends Error {
  constructor(message, detail) {
    super(message);
    this.detail = detail;
  }
}

export function expect(cond, message, detail) {
  if (!cond) throw new CheckFailure(message, detail);
}

// Recorder keeps every event a socket receives from the moment it is
// created, so a wait never misses one that fired before it started.
export class Recorder {
  constructor(socket, label) {
    this.socket = socket;
    this.label = label;
    this.events = new Map();
    this.waiters = new Set();
    socket.onAny((name, ...args) => this.push(name, args));
    for (const name of ["connect", "connect_error", "disconnect"]) {
      socket.on(name, (...args) => this.push(name, args));
    }
    socket.io.on("reconnect_attempt", (n) => this.push("reconnect_attempt", [n]));
  }

  push(name, args) {
    if (!this.events.has(name)) this.events.set(name, []);
    this.events.get(name).push(args);
    for (const w of [...this.waiters]) w();
  }

  all(name) {
    return (this.events.get(name) || []).map((a) => a[0]);
  }

  count(name) {
    return (this.events.get(name) || []).length;
  }

  // wait resolves with the first argument of the first occurrence of name
  // (at index from or later) that match accepts, and rejects after
  // timeoutMs.
  wait(name, { match = () => true, from = 0, timeoutMs = 5000 } = {}) {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters.delete(check);
        reject(new CheckFailure(`${this.label}: no "${name}" within ${timeoutMs} ms`, { seen: [...this.events.keys()] }));
      }, timeoutMs);
      const check = () => {
        const list = this.events.get(name) || [];
        for (let i = from; i < list.length; i++) {
          if (match(list[i][0])) {
            clearTimeout(timer);
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

  // emitAck emits with an acknowledgement and resolves with its first
  // argument.
  emitAck(event, data, timeoutMs = 5000) {
    return new Promise((resolve, reject) => {
      this.socket.timeout(timeoutMs).emit(event, data, (err, reply) => {
        if (err) reject(new CheckFailure(`${this.label}: no ack for "${event}" within ${timeoutMs} ms`));
        else resolve(reply);
      });
    });
  }
}

// open creates a websocket socket.io-client socket without waiting for it.
// opts.token becomes auth.token; the rest are socket.io-client options.
export function open(url, label, opts = {}) {
  const { token, ...rest } = opts;
  const options = { forceNew: true, reconnection: false, timeout: 5000, transports: ["websocket"], ...rest };
  if (token !== undefined) options.auth = { token };
  return new Recorder(io(url, options), label);
}

// connect opens a socket and resolves once the gateway's `connected`
// welcome event has arrived; a connect_error rejects.
export async function connect(url, label, opts = {}) {
  const c = open(url, label, opts);
  await Promise.race([
    c.wait("connected", { timeoutMs: opts.timeoutMs || 10000 }),
    c.wait("connect_error", { timeoutMs: 60000 }).then((err) => {
      throw new CheckFailure(`${label}: connect_error: ${err.message}`, { data: err.data });
    }),
  ]);
  return c;
}

// refused opens a socket that must be refused and resolves with the
// connect_error it received.
export async function refused(url, label, opts = {}) {
  const c = open(url, label, opts);
  const err = await Promise.race([
    c.wait("connect_error", { timeoutMs: 5000 }),
    c.wait("connect", { timeoutMs: 60000 }).then(() => {
      throw new CheckFailure(`${label}: connected although it should have been refused`);
    }),
  ]);
  c.socket.disconnect();
  return err;
}

// Checks runs named checks and reports them.
export class Checks {
  constructor() {
    this.passed = 0;
    this.failed = 0;
  }

  async run(name, fn) {
    const started = Date.now();
    let line;
    try {
      line = { check: name, ok: true, detail: await fn() };
    } catch (err) {
      const detail = { error: err.message };
      if (err.detail !== undefined) detail.info = err.detail;
      if (!(err instanceof CheckFailure)) detail.stack = err.stack;
      line = { check: name, ok: false, detail };
    }
    line.ms = Date.now() - started;
    if (line.ok) this.passed++;
    else this.failed++;
    report(line);
    return line.ok;
  }

  // finish prints the summary, closes sockets and exits.
  async finish(sockets = []) {
    report({ summary: true, passed: this.passed, failed: this.failed });
    for (const s of sockets) s.disconnect();
    await delay(50);
    process.exit(this.failed > 0 ? 1 : 0);
  }
}
