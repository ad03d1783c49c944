// abuse-expiry.mjs: connections whose token expires. Without a refresh the
// client gets an `error` event TOKEN_EXPIRED and is disconnected ("io
// server disconnect") when exp passes; with auth:refresh before that it
// stays; a refresh naming another user, or an invalid token, is refused
// and the connection keeps its old expiry.
//
// Environment: GATEWAY_TOKENS {alice, bob, bobFresh, carol, carolBadSig,
// mallory}; EXPIRES_AT, the exp claim (Unix seconds) of alice, bob and
// carol. The checks run concurrently: they all wait for the same instant.

import { Checks, config, connect, delay, expect } from "./abuse-lib.mjs";

const cfg = config();
const checks = new Checks();
const expMs = cfg.int("EXPIRES_AT", 0) * 1000;
if (expMs <= Date.now()) {
  process.stderr.write("EXPIRES_AT must be in the future\n");
  process.exit(2);
}
const sockets = [];
const errorCodes = (c) => c.all("error").map((e) => e.code);

// expired waits for TOKEN_EXPIRED then the disconnect, and checks that
// they came when exp passed, not before and not long after.
async function expired(c) {
  const err = await c.wait("error", { match: (e) => e.code === "TOKEN_EXPIRED", timeoutMs: expMs - Date.now() + 3000 });
  const at = Date.now();
  expect(typeof err.message === "string" && typeof err.timestamp === "string", "malformed TOKEN_EXPIRED payload", err);
  const reason = await c.wait("disconnect", { timeoutMs: 3000 });
  expect(reason === "io server disconnect", `disconnect reason "${reason}", want "io server disconnect"`);
  // exp has a one-second resolution and both clocks are this machine's.
  expect(at >= expMs - 20, `TOKEN_EXPIRED arrived ${expMs - at} ms before exp`);
  expect(at <= expMs + 1500, `TOKEN_EXPIRED arrived ${at - expMs} ms after exp`);
  return { lateMs: at - expMs, reason };
}

const [alice, bob, carol] = await Promise.all(
  ["alice", "bob", "carol"].map(async (name) => {
    const c = await connect(cfg.url, name, { token: cfg.token(name) });
    sockets.push(c.socket);
    return c;
  }),
);

await Promise.all([
  checks.run("expires-without-refresh", () => expired(alice)),

  checks.run("refresh-before-expiry", async () => {
    const reply = await bob.emitAck("auth:refresh", { token: cfg.token("bobFresh") });
    expect(reply && reply.userId === "bob", "refresh reply without the user id", reply);
    const expiresAt = Date.parse(reply.expiresAt);
    expect(expiresAt > expMs + 3_000_000, `refresh reply expiresAt ${reply.expiresAt} is not the fresh token's`, reply);
    expect(typeof reply.timestamp === "string", "refresh reply without a timestamp", reply);
    const event = await bob.wait("auth:refreshed");
    expect(event.userId === "bob" && event.expiresAt === reply.expiresAt, "auth:refreshed differs from the ack", { event, reply });
    // Past the old expiry (and past the moment alice was disconnected),
    // bob is still connected and served.
    await alice.wait("disconnect", { timeoutMs: expMs - Date.now() + 3000 });
    await delay(Math.max(0, expMs + 500 - Date.now()));
    const pong = await bob.emitAck("ping", {});
    expect(pong && typeof pong.timestamp === "string", "no pong after the old expiry", pong);
    expect(bob.socket.connected && bob.count("disconnect") === 0, "bob was disconnected");
    expect(errorCodes(bob).length === 0, "bob received error events", bob.all("error"));
    return { expiresAt: reply.expiresAt };
  }),

  checks.run("refused-refresh-keeps-old-expiry", async () => {
    const bad = await carol.emitAck("auth:refresh", { token: cfg.token("carolBadSig") });
    expect(bad && bad.code === "INVALID_TOKEN", `refresh with a bad signature: ack ${JSON.stringify(bad)}, want INVALID_TOKEN`);
    const other = await carol.emitAck("auth:refresh", { token: cfg.token("mallory") });
    expect(other && other.code === "FORBIDDEN", `refresh naming another user: ack ${JSON.stringify(other)}, want FORBIDDEN`);
    const empty = await carol.emitAck("auth:refresh", {});
    expect(empty && empty.code === "INVALID_PAYLOAD", `refresh without a token: ack ${JSON.stringify(empty)}, want INVALID_PAYLOAD`);
    const codes = errorCodes(carol);
    expect(
      codes.length === 3 && codes[0] === "INVALID_TOKEN" && codes[1] === "FORBIDDEN" && codes[2] === "INVALID_PAYLOAD",
      "error events differ from the acks",
      codes,
    );
    expect(carol.socket.connected && carol.count("auth:refreshed") === 0, "a refused refresh changed the connection");
    return expired(carol);
  }),
]);

await checks.finish(sockets);
