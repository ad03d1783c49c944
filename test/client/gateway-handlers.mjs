// Host-defined events registered with Gateway.Handle: a returned value
// reaches the client's ack; a returned realtime.Error becomes an `error`
// event with its code (and the ack); any other error and a panic become
// INTERNAL_ERROR without leaking details; unknown events get UNKNOWN_EVENT.
// None of them costs the client its connection.
//
// The Go side registers "llm:prompt" ({prompt}: "" -> BAD_PROMPT, "panic"
// -> panics, "db" -> a plain error mentioning a database address, anything
// else -> {answer: PROMPT uppercased, userId, clientId}), "llm:cancel"
// (returns nothing) and "llm:upload" (returns its binary argument
// reversed, as binary) and "llm:stream" (acks, then emits llm:stream
// {chunk} every 20 ms until the client's context ends).
// GATEWAY_TOKENS: t (sub llm-user), other (sub bystander), streamer.

import { Run, expect, expectEqual, isoRecent } from "./gateway-lib.mjs";

const run = new Run();
let c, other;

// refused emits event with args and an ack, and returns the `error` event
// after checking that the ack carries the same payload.
async function refused(event, args, code) {
  const from = c.count("error");
  const ack = await c.emitAck(event, ...args);
  const err = await c.wait("error", () => true, from);
  const detail = { sent: args, error: err };
  expect(err.code === code, `error code is not ${code}`, detail);
  expectEqual(Object.keys(err).sort(), ["code", "message", "timestamp"], "unexpected error fields");
  expect(isoRecent(err.timestamp), "error timestamp is not ISO-8601", detail);
  expectEqual(ack, [err], "the ack is not the error payload");
  return err;
}

async function answers(client, prompt) {
  const [res] = await client.emitAck("llm:prompt", { prompt });
  expectEqual(res, { answer: prompt.toUpperCase(), userId: client.last("connected").userId, clientId: client.id }, "llm:prompt ack");
  return res;
}

run.check("connect", async () => {
  c = await run.connect("c", { token: run.token("t") });
  other = await run.connect("other", { token: run.token("other") });
  return { c: c.id, other: other.id };
});

run.check("handler-value-reaches-ack", async () => {
  const res = await answers(c, "hello");
  await run.sync(c);
  expect(c.count("error") === 0, "a successful handler produced an error event", { errors: c.all("error") });
  return res;
});

run.check("handler-error-code", async () => {
  const err = await refused("llm:prompt", [{ prompt: "" }], "BAD_PROMPT");
  expect(err.message === "prompt must not be empty", "the handler's message did not reach the client", err);
  return err;
});

run.check("handler-error-without-ack", async () => {
  const from = c.count("error");
  c.socket.emit("llm:prompt", { prompt: "" });
  const err = await c.wait("error", () => true, from);
  expect(err.code === "BAD_PROMPT", "no BAD_PROMPT error event for an event sent without ack", err);
  return err;
});

run.check("handler-decode-error", () => refused("llm:prompt", ["just a string"], "INVALID_PAYLOAD"));

run.check("handler-internal-error-hidden", async () => {
  const err = await refused("llm:prompt", [{ prompt: "db" }], "INTERNAL_ERROR");
  expect(!/10\.0\.0\.5|pq:|connection refused/.test(err.message), "the internal error leaked to the client", err);
  return err;
});

run.check("handler-panic", async () => {
  const err = await refused("llm:prompt", [{ prompt: "panic" }], "INTERNAL_ERROR");
  expect(!/boom|goroutine|panic/i.test(err.message), "the panic leaked to the client", err);
  // The same connection and the others keep being served.
  await answers(c, "after panic");
  await answers(other, "bystander");
  const [pong] = await other.emitAck("ping");
  expect(typeof pong.timestamp === "string", "ping after the panic", pong);
  await run.sync(c, other);
  expect(c.count("disconnect") === 0 && other.count("disconnect") === 0, "a client was disconnected", {});
  return err;
});

run.check("handler-without-result", async () => {
  const ack = await c.emitAck("llm:cancel", { id: 1 });
  expectEqual(ack, [], "the ack of a handler returning nothing should carry no arguments");
  return { ack };
});

run.check("handler-binary", async () => {
  const sent = Buffer.from(Array.from({ length: 3000 }, (_, i) => i % 251));
  const [back] = await c.emitAck("llm:upload", sent);
  const got = Buffer.isBuffer(back) ? back : back instanceof ArrayBuffer ? Buffer.from(back) : null;
  expect(got !== null, "the binary result did not arrive as binary", { type: typeof back, back: String(back).slice(0, 80) });
  expect(got.equals(Buffer.from(sent).reverse()), "the binary result differs", { length: got.length });
  return { bytes: got.length };
});

run.check("unknown-event", async () => {
  const err = await refused("no-such-event", [{ x: 1 }], "UNKNOWN_EVENT");
  const from = c.count("error");
  c.socket.emit("another-unknown");
  const again = await c.wait("error", () => true, from);
  expect(again.code === "UNKNOWN_EVENT", "no UNKNOWN_EVENT for an event sent without ack", again);
  await answers(c, "still here");
  return err;
});

run.check("streaming-handler", async () => {
  const s = await run.connect("streamer", { token: run.token("streamer") });
  const [ack] = await s.emitAck("llm:stream", { prompt: "tell me" });
  expectEqual(ack, { streaming: true }, "llm:stream ack");
  await s.wait("llm:stream", (p) => p.chunk === 2);
  const chunks = s.all("llm:stream").map((p) => p.chunk);
  expect(chunks.every((n, i) => n === i), "chunks missing or out of order", { chunks });
  // Leaving must stop the stream; the Go side checks that it ends.
  s.socket.disconnect();
  expect(c.count("llm:stream") === 0 && other.count("llm:stream") === 0, "another client received the stream", {});
  return { chunks: chunks.length };
});

await run.finish();
