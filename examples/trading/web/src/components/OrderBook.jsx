import { useRef, useState } from "react";
import { SYMBOLS } from "../config.js";
import { formatPrice, formatSize, formatTime, priceDecimals } from "../format.js";
import { useSocketEvent } from "../hooks/useSocketEvent.js";

const LEVELS = 10;

// side orders one side of the book best first, merging repeated prices.
function side(levels, descending) {
  const merged = new Map();
  for (const level of Array.isArray(levels) ? levels : []) {
    const p = Number(level?.[0]);
    const s = Number(level?.[1]);
    if (Number.isFinite(p) && Number.isFinite(s)) merged.set(p, (merged.get(p) ?? 0) + s);
  }
  const rows = [...merged];
  rows.sort((a, b) => (descending ? b[0] - a[0] : a[0] - b[0]));
  let total = 0;
  return rows.slice(0, LEVELS).map(([price, size]) => {
    total += size;
    return { price, size, total };
  });
}

function Level({ row, kind, max, decimals }) {
  const pct = max > 0 ? (row.total / max) * 100 : 0;
  return (
    <div className={`ob-row ${kind}`}>
      <span className="ob-bar" style={{ width: `${pct.toFixed(1)}%` }} />
      <span className="ob-price">{formatPrice(row.price, decimals)}</span>
      <span>{formatSize(row.size)}</span>
      <span className="muted">{formatSize(row.total)}</span>
    </div>
  );
}

// OrderBook shows ten levels a side of the selected symbol; bars are the
// cumulative size, scaled to the deeper side.
export function OrderBook({ socket, symbol, onSelect, subscribed }) {
  const books = useRef({});
  const [book, setBook] = useState(null);
  const [updates, setUpdates] = useState(0);

  useSocketEvent(socket, "orderbook:update", (b) => {
    if (!b || typeof b.symbol !== "string") return;
    books.current[b.symbol] = b;
    if (b.symbol === symbol) {
      setBook(b);
      setUpdates((n) => n + 1);
    }
  });

  const select = (s) => {
    setBook(books.current[s] ?? null);
    onSelect(s);
  };

  const shown = book && book.symbol === symbol ? book : (books.current[symbol] ?? null);
  const bids = shown ? side(shown.bids, true) : [];
  const asks = shown ? side(shown.asks, false) : [];
  const max = Math.max(bids.at(-1)?.total ?? 0, asks.at(-1)?.total ?? 0);
  const bestBid = bids[0]?.price;
  const bestAsk = asks[0]?.price;
  const d = priceDecimals(bestBid ?? bestAsk ?? 100);
  const spread = bestBid !== undefined && bestAsk !== undefined ? bestAsk - bestBid : undefined;
  const mid = spread !== undefined ? (bestAsk + bestBid) / 2 : undefined;

  return (
    <section className="panel orderbook" data-updates={updates}>
      <header className="panel-head">
        <h2>Order book</h2>
        <div className="tabs" role="tablist">
          {SYMBOLS.map((s) => (
            <button
              key={s}
              type="button"
              role="tab"
              aria-selected={s === symbol}
              className={`tab ${s === symbol ? "active" : ""}`}
              onClick={() => select(s)}
            >
              {s.split("/")[0]}
            </button>
          ))}
        </div>
      </header>
      <div className="ob-cols muted">
        <span>Price</span>
        <span>Size</span>
        <span>Total</span>
      </div>
      <div className="ob num">
        <div className="ob-asks">
          {/* Rows are keyed by depth, not price: level n stays level n. */}
          {[...asks].reverse().map((r, i) => (
            <Level key={asks.length - 1 - i} row={r} kind="ask" max={max} decimals={d} />
          ))}
        </div>
        <div className="ob-mid">
          <span className="ob-midprice">{mid !== undefined ? formatPrice(mid, d) : "—"}</span>
          <span className="muted">
            spread {spread !== undefined ? formatPrice(spread, d) : "—"}
            {spread !== undefined && mid ? ` · ${((spread / mid) * 10000).toFixed(1)} bp` : ""}
          </span>
        </div>
        <div className="ob-bids">
          {bids.map((r, i) => (
            <Level key={i} row={r} kind="bid" max={max} decimals={d} />
          ))}
        </div>
      </div>
      <footer className="panel-foot muted num">
        <span>{subscribed ? "live" : "paused: not subscribed"}</span>
        <span>{shown ? formatTime(shown.timestamp) : "waiting for book"}</span>
      </footer>
    </section>
  );
}
