// Connection authentication as socket.io-client sees it: the `connected`
// welcome of an accepted token, and the connect_error (err.message,
// err.data.code) of every kind of refused one.
//
// GATEWAY_TOKENS: valid (sub user-1), expired, notYet, wrongSecret, none,
// rsaConfusion (HS256 keyed with the RS256 public key's PEM), rsValid (sub
// rs-user), header (sub header-user), query (sub query-user).
// GATEWAY_URLS: rs (RS256 gateway), query (HS256 with WithQueryToken(true)),
// dev (development mode with the HS256 authenticator).

import { Run, expect, expectEqual, isoRecent } from "./gateway-lib.mjs";

const run = new Run();

// Internal wording that must never reach a client.
const LEAKS = /realtime:|crypto\/|golang|signature is invalid|%!|\bnil\b|panic/i;

function expectRefusal(err, code) {
  const detail = { message: err.message, data: err.data };
  expect(err.data && err.data.code === code, `err.data.code is not ${code}`, detail);
  expect(
    typeof err.message === "string" && err.message.length >= 5 && /^[A-Za-z][A-Za-z0-9 ,.'()-]*$/.test(err.message),
    "err.message is not a human readable sentence",
    detail,
  );
  expect(err.message !== code && !LEAKS.test(err.message), "err.message leaks internals or repeats the code", detail);
  return detail;
}

async function expectWelcome(c, userId) {
  const w = await c.wait("connected");
  const detail = { welcome: w, id: c.id, transport: c.transport };
  expectEqual(Object.keys(w).sort(), ["clientId", "message", "timestamp", "userId"], "`connected` has unexpected fields");
  expect(typeof w.message === "string" && w.message.length > 0, "`connected` has no message", detail);
  expect(w.clientId === c.id, "clientId is not socket.id", detail);
  expect(w.userId === userId, `userId is not ${userId}`, detail);
  expect(isoRecent(w.timestamp), "timestamp is not a recent YYYY-MM-DDTHH:MM:SS.mmmZ", detail);
  return detail;
}

run.check("valid-token", async () => {
  const c = await run.connect("valid", { token: run.token("valid") });
  const detail = await expectWelcome(c, "user-1");
  if (run.mode === "upgrade") {
    await c.upgraded();
    detail.transport = c.transport;
  }
  expect(c.transport === (run.mode === "polling" ? "polling" : "websocket"), "unexpected transport", detail);
  expect(c.count("connected") === 1, "`connected` arrived more than once", { n: c.count("connected") });
  return detail;
});

run.check("auth-token-with-bearer-prefix", async () => {
  const c = await run.connect("valid-bearer", { token: `Bearer ${run.token("valid")}` });
  return expectWelcome(c, "user-1");
});

run.check("expired-token", async () =>
  expectRefusal(await run.refused("expired", { token: run.token("expired") }), "TOKEN_EXPIRED"),
);

run.check("not-yet-valid-token", async () =>
  expectRefusal(await run.refused("notYet", { token: run.token("notYet") }), "INVALID_TOKEN"),
);

run.check("wrong-secret", async () =>
  expectRefusal(await run.refused("wrongSecret", { token: run.token("wrongSecret") }), "INVALID_TOKEN"),
);

run.check("alg-none", async () =>
  expectRefusal(await run.refused("none", { token: run.token("none") }), "INVALID_TOKEN"),
);

run.check("rs256-valid-token", async () => {
  const c = await run.connect("rsValid", { url: run.urls.rs, token: run.token("rsValid") });
  return expectWelcome(c, "rs-user");
});

run.check("hs256-keyed-with-rsa-public-key", async () =>
  expectRefusal(
    await run.refused("rsaConfusion", { url: run.urls.rs, token: run.token("rsaConfusion") }),
    "INVALID_TOKEN",
  ),
);

run.check("no-token", async () => expectRefusal(await run.refused("anonymous"), "UNAUTHORIZED"));

for (const transport of ["websocket", "polling"]) {
  run.check(`bearer-header-${transport}`, async () => {
    const c = await run.connect(`header-${transport}`, {
      transports: [transport],
      extraHeaders: { Authorization: `Bearer ${run.token("header")}` },
    });
    const detail = await expectWelcome(c, "header-user");
    expect(c.transport === transport, "unexpected transport", detail);
    return detail;
  });
}

run.check("query-token-ignored-by-default", async () =>
  expectRefusal(await run.refused("query-default", { query: { token: run.token("query") } }), "UNAUTHORIZED"),
);

run.check("query-token-with-option", async () => {
  const c = await run.connect("query-allowed", { url: run.urls.query, query: { token: run.token("query") } });
  return expectWelcome(c, "query-user");
});

run.check("development-mode-without-token", async () => {
  const c = await run.connect("dev-anonymous", { url: run.urls.dev });
  return expectWelcome(c, "test-user-id");
});

run.check("development-mode-with-token", async () => {
  const c = await run.connect("dev-valid", { url: run.urls.dev, token: run.token("valid") });
  return expectWelcome(c, "user-1");
});

run.check("development-mode-bad-token", async () =>
  expectRefusal(await run.refused("dev-bad", { url: run.urls.dev, token: run.token("wrongSecret") }), "INVALID_TOKEN"),
);

await run.finish();
