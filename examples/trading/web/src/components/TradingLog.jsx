import { useReducer } from "react";
import { formatPrice, formatQty, formatTime, formatUsd } from "../format.js";
import { useSocketEvent } from "../hooks/useSocketEvent.js";

const MAX_ROWS = 50;

const initial = { rows: [], seq: 0, positions: {}, balance: null, fills: 0 };

function reduce(state, { type, data }) {
  const seq = state.seq + 1;
  const rows = [{ seq, type, data }, ...state.rows].slice(0, MAX_ROWS);
  const next = { ...state, rows, seq };
  if (type === "order:filled") next.fills = state.fills + 1;
  if (type === "position:updated" && data.symbol) next.positions = { ...state.positions, [data.symbol]: data };
  if (type === "balance:updated") next.balance = data;
  return next;
}

function Detail({ type, d }) {
  if (type === "order:filled") {
    return (
      <>
        <span className={`side ${d.side === "sell" ? "down" : "up"}`}>{String(d.side || "").toUpperCase()}</span>{" "}
        {formatQty(d.quantity)} <b>{d.symbol}</b> @ {formatPrice(d.price)}
        <span className="muted"> #{d.orderId}</span>
      </>
    );
  }
  if (type === "position:updated") {
    const pnl = Number(d.unrealizedPnl);
    return (
      <>
        <b>{d.symbol}</b> qty {formatQty(d.quantity)} avg {formatPrice(d.avgPrice)} mark {formatPrice(d.markPrice)}{" "}
        <span className={pnl >= 0 ? "up" : "down"}>uPnL {formatUsd(pnl, true)}</span>
      </>
    );
  }
  return (
    <>
      <b>{d.currency || "USD"}</b> available {formatUsd(d.available)} <span className="muted">/ total {formatUsd(d.total)}</span>
    </>
  );
}

const LABEL = { "order:filled": "FILL", "position:updated": "POS", "balance:updated": "BAL" };

// TradingLog lists fills, position and balance changes, newest first, with
// the latest balance and positions summarised above.
export function TradingLog({ socket }) {
  const [state, dispatch] = useReducer(reduce, initial);
  const record = (type) => (data) => {
    if (data && typeof data === "object") dispatch({ type, data });
  };
  useSocketEvent(socket, "order:filled", record("order:filled"));
  useSocketEvent(socket, "position:updated", record("position:updated"));
  useSocketEvent(socket, "balance:updated", record("balance:updated"));
  const positions = Object.values(state.positions);
  const totalPnl = positions.reduce((a, p) => a + (Number(p.unrealizedPnl) || 0), 0);

  return (
    <section className="panel trading">
      <header className="panel-head">
        <h2>Trading</h2>
        <span className="muted num">{state.fills} {state.fills === 1 ? "fill" : "fills"}</span>
      </header>
      <div className="summary num">
        <div className="tile">
          <span className="tile-k">Available</span>
          <span className="tile-v">{state.balance ? formatUsd(state.balance.available) : "—"}</span>
        </div>
        <div className="tile">
          <span className="tile-k">Equity</span>
          <span className="tile-v">{state.balance ? formatUsd(state.balance.total) : "—"}</span>
        </div>
        <div className="tile">
          <span className="tile-k">Unrealised PnL</span>
          <span className={`tile-v ${positions.length ? (totalPnl >= 0 ? "up" : "down") : ""}`}>
            {positions.length ? formatUsd(totalPnl, true) : "—"}
          </span>
        </div>
      </div>
      {positions.length > 0 ? (
        <table className="positions num">
          <thead>
            <tr>
              <th>Position</th>
              <th>Qty</th>
              <th>Avg</th>
              <th>Mark</th>
              <th>uPnL</th>
            </tr>
          </thead>
          <tbody>
            {positions.map((p) => (
              <tr key={p.symbol}>
                <td>{p.symbol}</td>
                <td>{formatQty(p.quantity)}</td>
                <td>{formatPrice(p.avgPrice)}</td>
                <td>{formatPrice(p.markPrice)}</td>
                <td className={Number(p.unrealizedPnl) >= 0 ? "up" : "down"}>{formatUsd(p.unrealizedPnl, true)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
      <ol className="log num" data-testid="event-log" data-count={state.rows.length}>
        {state.rows.length === 0 ? <li className="empty muted">Waiting for trading events…</li> : null}
        {state.rows.map((r) => (
          <li key={r.seq} className={`log-row ${r.type.replace(":", "-")}`} data-event={r.type}>
            <span className="muted">{formatTime(r.data.timestamp)}</span>
            <span className="tag">{LABEL[r.type]}</span>
            <span className="log-detail">
              <Detail type={r.type} d={r.data} />
            </span>
          </li>
        ))}
      </ol>
    </section>
  );
}
