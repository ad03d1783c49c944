// User rooms: SendToUser reaches every connection of that user and nobody
// else, and no client can enter another user's room.
//
// GATEWAY_TOKENS: a1 and a2 (both sub A), b (sub B).

import { Run, expect, expectEqual } from "./gateway-lib.mjs";

const run = new Run();
let a1, a2, b;

// orders returns the ids of the order:filled events c received.
const orders = (c) => c.all("order:filled").map((p) => p.id);

run.check("connect", async () => {
  a1 = await run.connect("a1", { token: run.token("a1") });
  a2 = await run.connect("a2", { token: run.token("a2") });
  b = await run.connect("b", { token: run.token("b") });
  const users = [a1, a2, b].map((c) => c.last("connected").userId);
  expectEqual(users, ["A", "A", "B"], "unexpected user ids");
  expect(a1.id !== a2.id, "two connections of one user share a socket id", { a1: a1.id, a2: a2.id });
  return { a1: a1.id, a2: a2.id, b: b.id };
});

run.check("send-to-user-reaches-every-connection", async () => {
  await run.ctl("user", { user: "A", event: "order:filled", data: { id: 1, symbol: "BTC/USD" } });
  // b must be seen receiving a later event before its silence counts.
  await run.sync(a1, a2, b);
  const got = { a1: orders(a1), a2: orders(a2), b: orders(b) };
  expectEqual(got, { a1: [1], a2: [1], b: [] }, "SendToUser(A) delivery");
  expectEqual(a1.last("order:filled"), { id: 1, symbol: "BTC/USD" }, "payload changed on the way");
  return got;
});

run.check("send-to-other-user", async () => {
  await run.ctl("user", { user: "B", event: "order:filled", data: { id: 2 } });
  await run.sync(a1, a2, b);
  const got = { a1: orders(a1), a2: orders(a2), b: orders(b) };
  expectEqual(got, { a1: [1], a2: [1], b: [2] }, "SendToUser(B) delivery");
  return got;
});

run.check("cannot-subscribe-to-another-users-room", async () => {
  const from = b.count("error");
  const ack = await b.emitAck("subscribe", { channel: "user:A" });
  const err = await b.wait("error", () => true, from);
  expect(err.code === "FORBIDDEN", "subscribing to user:A was not refused with FORBIDDEN", { err, ack });
  expect(b.count("subscribed") === 0, "b got a subscribed event for user:A", {});
  await run.ctl("user", { user: "A", event: "order:filled", data: { id: 3 } });
  await run.sync(a1, a2, b);
  const got = { a1: orders(a1), a2: orders(a2), b: orders(b) };
  expectEqual(got, { a1: [1, 3], a2: [1, 3], b: [2] }, "delivery after the refused subscription");
  return { err, got };
});

run.check("cannot-leave-own-user-room", async () => {
  const ack = await a2.emitAck("unsubscribe", { channel: "user:A" });
  expect(ack[0] && ack[0].code === "FORBIDDEN", "leaving the own user room was not refused", { ack });
  await run.ctl("user", { user: "A", event: "order:filled", data: { id: 4 } });
  await a2.wait("order:filled", (p) => p.id === 4);
  return ack[0];
});

run.check("disconnected-connection-leaves-user-room", async () => {
  a1.socket.disconnect();
  // The server learns of the disconnect asynchronously; ask it until it
  // has.
  const deadline = Date.now() + 3000;
  let size;
  while ((size = (await run.ctl("room-size", { room: "user:A" })).size) !== 1 && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 20));
  }
  expect(size === 1, "user:A still holds the disconnected connection", { size });
  await run.ctl("user", { user: "A", event: "order:filled", data: { id: 5 } });
  await run.sync(a2, b);
  const got = { a2: orders(a2), b: orders(b) };
  expectEqual(got, { a2: [1, 3, 4, 5], b: [2] }, "delivery after a1 left");
  return got;
});

await run.finish();
