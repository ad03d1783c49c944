import { useCallback, useEffect, useRef, useState } from "react";
import { SYMBOLS } from "../config.js";
import { formatAgo, formatTime } from "../format.js";
import { useNow } from "../hooks/useNow.js";
import { useSocketEvent } from "../hooks/useSocketEvent.js";

// Round trips are measured now and then so the figure stays current without
// eating into the per-client event budget (60 a minute by default).
const AUTO_PING_MS = 15000;

// ConnectionPanel shows who and how we are connected, and the latency.
export function ConnectionPanel({ conn, subs, clients }) {
  const { socket, connected, state, transport, socketId, identity, connectError, attempt } = conn;
  const now = useNow(1000);
  const [rtt, setRtt] = useState(null);
  const [heartbeatAt, setHeartbeatAt] = useState(null);
  const sent = useRef([]);

  useSocketEvent(socket, "heartbeat", () => setHeartbeatAt(Date.now()));
  useSocketEvent(socket, "pong", (d) => {
    const start = sent.current.shift();
    if (start !== undefined) setRtt({ ms: performance.now() - start, at: Date.now(), server: d?.timestamp });
  });

  const ping = useCallback(() => {
    if (!socket?.connected) return;
    sent.current.push(performance.now());
    socket.emit("ping");
  }, [socket]);

  useEffect(() => {
    sent.current = [];
    if (!connected) return undefined;
    ping();
    const id = setInterval(ping, AUTO_PING_MS);
    return () => clearInterval(id);
  }, [connected, ping]);

  const rows = [
    [
      "state",
      <span className={`state ${state}`}>
        <span className="dot" />
        <span data-testid="connection-state">{state}</span>
        {state === "reconnecting" && attempt > 0 ? <span className="muted"> #{attempt}</span> : null}
      </span>,
    ],
    ["transport", <span className={`badge ${transport || ""}`} data-testid="transport">{transport || "—"}</span>],
    ["socket", <span className="num" title={socketId || ""}>{socketId || "—"}</span>],
    ["user", <span title={identity?.clientId ? `client ${identity.clientId}` : ""}>{identity?.userId || "—"}</span>],
    [
      "round trip",
      <span className="num">
        {rtt ? `${rtt.ms < 10 ? rtt.ms.toFixed(1) : Math.round(rtt.ms)} ms` : "—"}
        <span className="muted"> {rtt ? `pong ${formatTime(rtt.server ?? rtt.at).slice(0, 8)}` : ""}</span>
      </span>,
    ],
    ["heartbeat", <span className="num">{heartbeatAt ? formatAgo(now - heartbeatAt) : "awaiting"}</span>],
    ["online", <span className="num">{clients == null ? "—" : `${clients} ${clients === 1 ? "client" : "clients"}`}</span>],
  ];

  return (
    <section className="panel conn">
      <header className="panel-head">
        <h2>Connection</h2>
        <button type="button" className="btn small" onClick={ping} disabled={!connected} data-testid="ping">
          Ping
        </button>
      </header>
      <dl className="kv conn-kv">
        {rows.map(([k, v]) => (
          <div className="kv-row" key={k}>
            <dt>{k}</dt>
            <dd>{v}</dd>
          </div>
        ))}
      </dl>
      <div className="chips">
        <span
          className={`chip ${identity?.userId ? "on" : ""}`}
          title="Joined by the gateway at connect: your fills, positions, balance and assistant answers arrive here"
        >
          {identity?.userId ? `user:${identity.userId}` : "user room"}
        </span>
        {SYMBOLS.map((s) => (
          <span key={s} className={`chip ${subs[s].subscribed ? "on" : ""}`}>
            {s.split("/")[0]}
          </span>
        ))}
      </div>
      {connectError && !connected ? (
        <div className="conn-error">
          {connectError.code ? <b>{connectError.code}</b> : null} {connectError.message}
        </div>
      ) : null}
    </section>
  );
}
