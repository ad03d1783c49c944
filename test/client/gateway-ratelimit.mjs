// Rate limiting: with the default limiter 60 events are answered and the
// 61st is refused with RATE_LIMITED and not processed, while the
// connection keeps receiving broadcasts; with WithRateLimit(5, 500ms) the
// client is served again once tokens return.
//
// --url is a gateway with the default limiter; GATEWAY_URLS.fast one with
// WithRateLimit(5, 500*time.Millisecond). GATEWAY_TOKENS: t.

import { Run, delay, expect, expectEqual } from "./gateway-lib.mjs";

const run = new Run();
let c;

run.check("default-60-answered-61st-refused", async () => {
  c = await run.connect("default", { token: run.token("t") });
  // All 61 leave in one burst, well inside the minute.
  for (let i = 0; i < 60; i++) c.socket.emit("ping");
  const ack = c.emitAck("subscribe", { channel: "trading" });
  await c.wait("pong", () => true, 59);
  const [refusal] = await ack;
  const err = await c.wait("error");
  const detail = { pongs: c.count("pong"), error: err };
  expect(err.code === "RATE_LIMITED", "the 61st event was not refused with RATE_LIMITED", detail);
  expectEqual(refusal, err, "the ack of the refused event is not the error payload");
  expect(c.count("error") === 1, "more than one event was refused", { errors: c.all("error") });
  return detail;
});

run.check("refused-event-not-processed", async () => {
  await run.ctl("room", { room: "trading", event: "order:filled", data: { n: 1 } });
  await run.sync(c);
  expect(c.count("order:filled") === 0 && c.count("subscribed") === 0, "the refused subscribe was carried out", {
    subscribed: c.all("subscribed"),
  });
  expect(c.count("pong") === 60, "more pongs than admitted events", { pongs: c.count("pong") });
  const stats = await run.ctl("stats");
  const mine = stats.clients.find((x) => x.id === c.id);
  expectEqual(mine && mine.subscriptions, [], "Stats lists a subscription from the refused event");
  return { subscriptions: mine.subscriptions };
});

run.check("limited-connection-still-receives", async () => {
  await run.ctl("user", { user: "limited", event: "order:filled", data: { n: 2 } });
  await c.wait("order:filled", (p) => p.n === 2);
  await run.sync(c);
  expect(c.socket.connected && c.count("disconnect") === 0, "the limited client was disconnected", {});
  return { connected: c.socket.connected };
});

run.check("served-again-after-refill", async () => {
  const f = await run.connect("fast", { url: run.urls.fast, token: run.token("t") });
  for (let i = 0; i < 5; i++) f.socket.emit("ping");
  const [first] = await f.emitAck("ping");
  await f.wait("pong", () => true, 4);
  expect(first.code === "RATE_LIMITED", "the 6th event inside 500 ms was not refused", { first, pongs: f.count("pong") });
  let limited = 1;
  const refusedAt = Date.now();
  // Retry until the server answers: each attempt awaits the server's
  // verdict, so the wait ends as soon as a token is back.
  for (;;) {
    const [res] = await f.emitAck("ping");
    if (res && res.code === "RATE_LIMITED") {
      limited++;
      expect(Date.now() - refusedAt < 2000, "still refused 2 s after the limit was hit", { limited });
      await delay(20);
      continue;
    }
    expect(res && typeof res.timestamp === "string" && res.code === undefined, "unexpected ping ack", { res });
    break;
  }
  const waitedMs = Date.now() - refusedAt;
  await f.wait("pong", () => true, 5);
  expect(waitedMs < 1000, "tokens took longer than the window to return", { waitedMs });
  expect(f.count("error") === limited, "error events do not match the refusals", { errors: f.count("error"), limited });
  return { limited, waitedMs, pongs: f.count("pong") };
});

await run.finish();
