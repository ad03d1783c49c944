import { useCallback, useEffect, useReducer, useState } from "react";
import { ConnectionPanel } from "./components/ConnectionPanel.jsx";
import { ErrorLog, Toasts } from "./components/Errors.jsx";
import { LlmPanel } from "./components/LlmPanel.jsx";
import { OrderBook } from "./components/OrderBook.jsx";
import { Prices } from "./components/Prices.jsx";
import { StatsPanel } from "./components/StatsPanel.jsx";
import { TradingLog } from "./components/TradingLog.jsx";
import { SYMBOLS } from "./config.js";
import { formatTime } from "./format.js";
import { useNow } from "./hooks/useNow.js";
import { useSocketEvent } from "./hooks/useSocketEvent.js";
import { useSubscriptions } from "./hooks/useSubscriptions.js";
import { useWebSocket } from "./hooks/useWebSocket.js";

const MAX_ERRORS = 30;

// Repeats of the newest error (a refused reconnect, say) are counted, not listed.
function reduceErrors(state, e) {
  const top = state.list[0];
  if (top && top.code === e.code && top.message === e.message) {
    return { ...state, list: [{ ...top, ...e, at: Date.now(), repeat: (top.repeat || 1) + 1 }, ...state.list.slice(1)] };
  }
  const seq = state.seq + 1;
  return { seq, list: [{ ...e, seq, at: Date.now() }, ...state.list].slice(0, MAX_ERRORS) };
}

function Clock() {
  const now = useNow(1000);
  return <span className="clock num">{formatTime(now).slice(0, 8)} UTC</span>;
}

export default function App({ token, transports }) {
  const conn = useWebSocket(token, transports);
  const { socket, connected, state, transport, connectError } = conn;
  const { symbols, toggle } = useSubscriptions(socket, connected);
  const [selected, setSelected] = useState(SYMBOLS[0]);
  const [clients, setClients] = useState(null);
  const [errors, pushError] = useReducer(reduceErrors, { seq: 0, list: [] });

  useSocketEvent(socket, "connection-count", (d) => setClients(d?.count ?? null));
  useSocketEvent(socket, "error", (e) =>
    pushError({ code: e?.code, message: e?.message ?? String(e), timestamp: e?.timestamp }),
  );
  useEffect(() => {
    if (connectError) pushError({ code: connectError.code || "CONNECT_ERROR", message: connectError.message });
  }, [connectError]);
  const onLlmError = useCallback((e) => pushError(e), []);

  return (
    <div className="app">
      <header className="topbar">
        <div className="brand">
          <span className="logo" aria-hidden="true" />
          TradeWithAI <span className="muted">realtime</span>
        </div>
        <div className={`pill ${state}`}>
          <span className="dot" />
          {state}
          {transport && connected ? <span className="muted"> · {transport}</span> : null}
        </div>
        <div className="spacer" />
        <span className="muted num">{clients != null ? `${clients} online` : ""}</span>
        <Clock />
      </header>

      <main className="grid">
        <div className="row top">
          <ConnectionPanel conn={conn} subs={symbols} clients={clients} />
          <Prices
            socket={socket}
            subs={symbols}
            onToggle={toggle}
            selected={selected}
            onSelect={setSelected}
            online={connected}
          />
        </div>
        <div className="row middle">
          <OrderBook socket={socket} symbol={selected} onSelect={setSelected} subscribed={symbols[selected].subscribed} />
          <TradingLog socket={socket} />
          <LlmPanel socket={socket} connected={connected} onError={onLlmError} />
        </div>
        <div className="row bottom">
          <StatsPanel selfId={conn.socketId} token={token} />
          <ErrorLog errors={errors.list} />
        </div>
      </main>
      <Toasts errors={errors.list} />
    </div>
  );
}
