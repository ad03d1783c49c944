// Heartbeat: with WithHeartbeatInterval(100ms) a connected client receives
// `heartbeat` {timestamp} events about every 100 ms.
//
// GATEWAY_TOKENS: t.

import { Run, expect, expectEqual, isoRecent } from "./gateway-lib.mjs";

const run = new Run();
const WANT = 6;
const INTERVAL = 100;

run.check("heartbeats", async () => {
  const c = await run.connect("c", { token: run.token("t") });
  const arrivals = [];
  c.socket.on("heartbeat", () => arrivals.push(Date.now()));
  const from = c.count("heartbeat");
  await c.wait("heartbeat", () => true, from + WANT - 1);
  const beats = c.all("heartbeat").slice(from, from + WANT);
  for (const b of beats) {
    expectEqual(Object.keys(b), ["timestamp"], "heartbeat has unexpected fields");
    expect(isoRecent(b.timestamp), "heartbeat timestamp is not a recent ISO-8601 UTC ms", b);
  }
  const stamps = beats.map((b) => Date.parse(b.timestamp));
  const serverGaps = stamps.slice(1).map((t, i) => t - stamps[i]);
  const gaps = arrivals.slice(1, WANT).map((t, i) => t - arrivals[i]);
  const span = arrivals[WANT - 1] - arrivals[0];
  const detail = { serverGaps, arrivalGaps: gaps, spanMs: span };
  // The server stamps each heartbeat when its ticker fires: the stamps
  // are a multiple of the interval apart (a tick is skipped, never
  // doubled, when the machine is busy).
  for (const g of serverGaps) {
    const ticks = Math.round(g / INTERVAL);
    expect(ticks >= 1 && Math.abs(g - ticks * INTERVAL) <= 40, "heartbeats are not spaced by the interval", detail);
  }
  const mean = span / (WANT - 1);
  expect(mean >= INTERVAL * 0.6 && mean <= INTERVAL * 2.5, "mean heartbeat spacing is far from 100 ms", { ...detail, mean });
  return { ...detail, mean };
});

await run.finish();
