// A burst of acknowledged events far over the rate limit: every event is
// answered (a pong, or RATE_LIMITED once the limit is reached) and the
// connection stays, however many refusals the burst earns.
//
// --url is a gateway with the default limiter (60 events a minute).
// GATEWAY_TOKENS: t. BURST (default 5000) is the number of events.

import { Run, expect } from "./gateway-lib.mjs";

const run = new Run();
const burst = Number(process.env.BURST || 5000);

run.check("burst-answered-connection-stays", async () => {
  const c = await run.connect("burst", { token: run.token("t") });
  run.stage = `waiting for ${burst} acks`;
  // Every event leaves in one synchronous burst: over long-polling they
  // travel in a few large POSTs, over websocket as fast as the socket takes
  // them.
  const acks = [];
  for (let i = 0; i < burst; i++) {
    acks.push(new Promise((resolve) => c.socket.timeout(60_000).emit("ping", (err, res) => resolve(err ? { timeout: true } : res))));
  }
  const answers = await Promise.all(acks);
  const pongs = answers.filter((a) => a && typeof a.timestamp === "string" && a.code === undefined).length;
  const limited = answers.filter((a) => a && a.code === "RATE_LIMITED").length;
  const detail = { burst, pongs, limited, unanswered: burst - pongs - limited, transport: c.transport };
  expect(pongs + limited === burst, "some events were not answered", detail);
  expect(pongs === 60, "not exactly the 60 admitted events were answered with pong", detail);
  expect(c.socket.connected && c.count("disconnect") === 0, "the client was disconnected", detail);
  // The connection still carries events both ways.
  const [again] = await c.emitAck("get-subscriptions");
  expect(again && again.code === "RATE_LIMITED", "the connection stopped answering", { again });
  return detail;
});

await run.finish();
