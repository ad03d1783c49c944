// connection-count coalescing: many clients connect at once; each receives
// a few `connection-count` events, not one per arrival, and the last count
// every client sees is the number of connections.
//
// GATEWAY_TOKENS: t. GATEWAY_URLS is unused. The number of clients is
// GATEWAY_CLIENTS (default 200).

import { Run, expect, isoRecent } from "./gateway-lib.mjs";

const run = new Run();
const N = Number(process.env.GATEWAY_CLIENTS || 200);
const INTERVAL = 200; // WithConnectionCountInterval on the Go side
const clients = [];
let connectMs = 0;

run.check(
  "connect-all",
  async () => {
    const started = Date.now();
    for (let i = 0; i < N; i++) clients.push(run.open(`c${i}`, { token: run.token("t"), transports: ["websocket"] }));
    run.stage = `waiting for ${N} welcomes`;
    await Promise.all(clients.map((c) => c.wait("connected")));
    const server = await run.ctl("connected-clients");
    expect(server.count === N, "the gateway counts a different number of clients", { server, want: N });
    connectMs = Date.now() - started;
    return { clients: N, ms: connectMs };
  },
  20000,
);

run.check(
  "final-count-reaches-everyone",
  async () => {
    await Promise.all(clients.map((c) => c.wait("connection-count", (p) => p.count === N)));
    const last = clients.map((c) => c.last("connection-count"));
    expect(last.every((p) => p.count === N), "a client saw a count after the final one", {
      wrong: last.filter((p) => p.count !== N).slice(0, 5),
    });
    const bad = last.find((p) => Object.keys(p).sort().join() !== "count,timestamp" || !isoRecent(p.timestamp));
    expect(!bad, "connection-count is not {count, timestamp}", { bad });
    return { last: last[0] };
  },
  10000,
);

run.check("coalesced", async () => {
  const per = clients.map((c) => c.count("connection-count"));
  const total = per.reduce((a, b) => a + b, 0);
  const max = Math.max(...per);
  // At most one event per interval while clients were arriving, plus the
  // final one and some slack for ticks straddling the ends.
  const bound = Math.ceil(connectMs / INTERVAL) + 3;
  const detail = { total, max, min: Math.min(...per), perClientBound: bound, connectMs, uncoalesced: N * N };
  expect(total < N * 10, "clients received too many connection-count events", detail);
  expect(max <= bound, "a client received more than one connection-count per interval", detail);
  for (const c of clients) {
    const counts = c.all("connection-count").map((p) => p.count);
    expect(
      counts.every((n, i) => i === 0 || n >= counts[i - 1]),
      "counts went down while clients were only arriving",
      { client: c.label, counts },
    );
  }
  return detail;
});

run.check(
  "count-after-departures",
  async () => {
    const leaving = clients.slice(0, N / 2);
    const staying = clients.slice(N / 2);
    const from = staying.map((c) => c.count("connection-count"));
    const started = Date.now();
    for (const c of leaving) c.socket.disconnect();
    await Promise.all(staying.map((c, i) => c.wait("connection-count", (p) => p.count === N / 2, from[i])));
    const elapsed = Date.now() - started;
    const per = staying.map((c, i) => c.count("connection-count") - from[i]);
    const detail = { elapsedMs: elapsed, max: Math.max(...per), total: per.reduce((a, b) => a + b, 0) };
    expect(Math.max(...per) <= Math.ceil(elapsed / INTERVAL) + 2, "departures were not coalesced", detail);
    return detail;
  },
  10000,
);

await run.finish();
