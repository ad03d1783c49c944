import { useEffect, useReducer, useRef, useState } from "react";
import { useSocketEvent } from "../hooks/useSocketEvent.js";

const MAX_EXCHANGES = 20;
const MAX_ORPHANS = 16;
const ACK_TIMEOUT_MS = 15000;

function update(list, match, fn) {
  return list.map((x) => (match(x) ? fn(x) : x));
}

function reduce(list, a) {
  switch (a.type) {
    case "send":
      return [...list, { key: a.key, prompt: a.prompt, status: "sending", text: "", chunks: 0, sentAt: a.at }].slice(
        -MAX_EXCHANGES,
      );
    case "accepted":
      return update(list, (x) => x.key === a.key, (x) => {
        const o = a.buffered;
        return {
          ...x,
          requestId: a.requestId,
          status: o?.done ? "done" : "streaming",
          text: o?.text ?? "",
          chunks: o?.chunks ?? 0,
          firstAt: o?.firstAt,
          doneAt: o?.doneAt,
        };
      });
    case "failed":
      return update(list, (x) => x.key === a.key, (x) => ({ ...x, status: "error", error: a.error }));
    case "chunk":
      return update(list, (x) => x.requestId === a.requestId, (x) => ({
        ...x,
        text: x.text + a.chunk,
        chunks: x.chunks + (a.chunk ? 1 : 0),
        firstAt: x.firstAt ?? (a.chunk ? a.at : undefined),
        status: a.done ? "done" : "streaming",
        doneAt: a.done ? a.at : x.doneAt,
      }));
    default:
      return list;
  }
}

function Metrics({ x }) {
  if (x.status === "error") return <span className="down">{x.error}</span>;
  const parts = [];
  if (x.requestId) parts.push(`req ${x.requestId.slice(0, 8)}`);
  if (x.firstAt) parts.push(`first ${Math.round(x.firstAt - x.sentAt)} ms`);
  if (x.chunks) parts.push(`${x.chunks} chunks`);
  if (x.doneAt) parts.push(`${((x.doneAt - x.sentAt) / 1000).toFixed(2)} s`);
  if (x.status === "sending") parts.push("waiting for ack");
  return <span>{parts.join(" · ")}</span>;
}

// LlmPanel sends a prompt with an acknowledgement and renders the answer as
// its `llm:stream` chunks arrive. Chunks that overtake the ack are held until
// the ack names their request.
export function LlmPanel({ socket, connected, onError }) {
  const [exchanges, dispatch] = useReducer(reduce, []);
  const [prompt, setPrompt] = useState("");
  const known = useRef(new Set());
  const orphans = useRef(new Map());
  const seq = useRef(0);
  const scroller = useRef(null);

  useSocketEvent(socket, "llm:stream", (m) => {
    if (!m || typeof m.requestId !== "string") return;
    const chunk = typeof m.chunk === "string" ? m.chunk : "";
    const at = performance.now();
    if (known.current.has(m.requestId)) {
      dispatch({ type: "chunk", requestId: m.requestId, chunk, done: Boolean(m.done), at });
      return;
    }
    const o = orphans.current.get(m.requestId) ?? { text: "", chunks: 0 };
    o.text += chunk;
    if (chunk) {
      o.chunks += 1;
      o.firstAt ??= at;
    }
    if (m.done) {
      o.done = true;
      o.doneAt = at;
    }
    orphans.current.set(m.requestId, o);
    if (orphans.current.size > MAX_ORPHANS) orphans.current.delete(orphans.current.keys().next().value);
  });

  const last = exchanges.at(-1);
  useEffect(() => {
    const el = scroller.current;
    if (el) el.scrollTop = el.scrollHeight;
  }, [last?.text, last?.status, exchanges.length]);

  const send = () => {
    const text = prompt.trim();
    if (!text || !socket?.connected) return;
    seq.current += 1;
    const key = seq.current;
    dispatch({ type: "send", key, prompt: text, at: performance.now() });
    setPrompt("");
    socket.timeout(ACK_TIMEOUT_MS).emit("llm:prompt", { prompt: text }, (err, res) => {
      if (err) {
        dispatch({ type: "failed", key, error: "no acknowledgement from the server" });
        onError({ code: "ACK_TIMEOUT", message: "llm:prompt was not acknowledged" });
        return;
      }
      if (!res?.accepted || typeof res.requestId !== "string") {
        const e = res?.error ?? {};
        dispatch({ type: "failed", key, error: `${e.code ? `${e.code}: ` : ""}${e.message || "prompt refused"}` });
        onError({ code: e.code || "LLM_REFUSED", message: e.message || "prompt refused" });
        return;
      }
      known.current.add(res.requestId);
      const buffered = orphans.current.get(res.requestId);
      orphans.current.delete(res.requestId);
      dispatch({ type: "accepted", key, requestId: res.requestId, buffered });
    });
  };

  return (
    <section className="panel llm">
      <header className="panel-head">
        <h2>Assistant</h2>
        <span className="muted num">{last ? <Metrics x={last} /> : "llm:stream"}</span>
      </header>
      <div className="llm-scroll" ref={scroller}>
        {exchanges.length === 0 ? (
          <p className="empty muted">Ask about the market; the answer streams token by token.</p>
        ) : null}
        {exchanges.map((x) => {
          const latest = x === last;
          const streaming = x.status === "sending" || x.status === "streaming";
          return (
            <article key={x.key} className="llm-x">
              <div className="llm-prompt">
                <span className="caret">›</span> {x.prompt}
              </div>
              <div
                className={`llm-answer ${x.status}`}
                data-testid={latest ? "llm-output" : undefined}
                data-status={x.status}
                data-done={x.status === "done" ? "true" : "false"}
              >
                {x.text}
                {streaming ? <span className="cursor" aria-hidden="true" /> : null}
              </div>
            </article>
          );
        })}
      </div>
      <form
        className="llm-form"
        onSubmit={(e) => {
          e.preventDefault();
          send();
        }}
      >
        <textarea
          data-testid="llm-prompt"
          rows={2}
          value={prompt}
          placeholder={connected ? "Prompt (Enter to send, Shift+Enter for a new line)" : "Offline"}
          onChange={(e) => setPrompt(e.target.value)}
          onKeyDown={(e) => {
            if (e.key === "Enter" && !e.shiftKey) {
              e.preventDefault();
              send();
            }
          }}
        />
        <button type="submit" className="btn primary" data-testid="llm-send" disabled={!connected || !prompt.trim()}>
          Send
        </button>
      </form>
    </section>
  );
}
