// abuse-shutdown.mjs: socket.io-client sockets connected through a load
// balancer to a gateway that shuts down. A burst the gateway broadcast
// right before Shutdown must arrive in full before the disconnect; the
// disconnect must read "transport close" (not "io server disconnect"), so
// the client reconnects by itself, and the balancer sends it to the second
// gateway.
//
// Environment: GATEWAY_TOKENS {t}, ABUSE_CLIENTS, BURST.
// Steps printed: {"step":"ready"} once every socket has its welcome;
// {"step":"reconnected"} once every socket has been welcomed again. The
// Go test then broadcasts hello-from-b on the second gateway.

import { Checks, config, connect, expect } from "./abuse-lib.mjs";

const cfg = config();
const n = cfg.int("ABUSE_CLIENTS", 20);
const burst = cfg.int("BURST", 500);
const checks = new Checks();
const clients = [];
const sockets = () => clients.map((c) => c.socket);

await checks.run("connect", async () => {
  const opts = {
    token: cfg.token("t"),
    reconnection: true,
    reconnectionDelay: 100,
    reconnectionDelayMax: 300,
    randomizationFactor: 0,
  };
  clients.push(...(await Promise.all(Array.from({ length: n }, (_, i) => connect(cfg.url, `client-${i}`, opts)))));
  for (const c of clients) {
    // What had arrived when the disconnect came.
    c.socket.on("disconnect", () => {
      if (c.burstAtDisconnect === undefined) c.burstAtDisconnect = c.count("burst");
    });
  }
  return { clients: clients.length };
});
if (clients.length !== n) await checks.finish(sockets());
process.stdout.write(JSON.stringify({ step: "ready" }) + "\n");

await Promise.all(clients.map((c) => c.wait("disconnect", { timeoutMs: 20000 })));

await checks.run("burst-flushed-before-close", async () => {
  const short = clients.filter((c) => c.burstAtDisconnect !== burst);
  expect(short.length === 0, `${short.length} sockets had not received the whole burst of ${burst} when disconnected`,
    short.slice(0, 5).map((c) => ({ client: c.label, received: c.burstAtDisconnect })));
  const unordered = clients.filter((c) => c.all("burst").some((p, i) => p.seq !== i + 1));
  expect(unordered.length === 0, `${unordered.length} sockets received the burst out of order`);
  return { burst, sockets: clients.length };
});

await checks.run("disconnect-reason", async () => {
  const reasons = [...new Set(clients.map((c) => c.all("disconnect")[0]))];
  expect(reasons.length === 1 && reasons[0] === "transport close", `disconnect reasons ${JSON.stringify(reasons)}, want "transport close"`);
  return { reason: reasons[0] };
});

await checks.run("reconnect-attempted", async () => {
  await Promise.all(clients.map((c) => c.wait("reconnect_attempt", { timeoutMs: 5000 })));
  return { sockets: clients.length };
});

const reconnected = await checks.run("reconnected", async () => {
  // The second welcome comes from whichever gateway the balancer chose.
  await Promise.all(clients.map((c) => c.wait("connected", { from: 1, timeoutMs: 10000 })));
  expect(clients.every((c) => c.socket.connected), "not every socket is connected again");
  return { sockets: clients.length };
});

if (reconnected) {
  process.stdout.write(JSON.stringify({ step: "reconnected" }) + "\n");
  await checks.run("served-by-second-gateway", async () => {
    await Promise.all(clients.map((c) => c.wait("hello-from-b", { timeoutMs: 5000 })));
    return { sockets: clients.length };
  });
}

await checks.finish(sockets());
