import { memo } from "react";
import { formatCompact, formatPct, formatPrice, formatTime, priceDecimals } from "../format.js";
import { Sparkline } from "./Sparkline.jsx";

// PriceCard is one symbol's live ticker with its subscription switch.
export const PriceCard = memo(function PriceCard({ symbol, ticker, sub, selected, onSelect, onToggle, online }) {
  const t = ticker.last;
  const d = t ? priceDecimals(t.price) : 2;
  const change = t ? Number(t.change24h) : 0;
  const spread = t ? Number(t.ask) - Number(t.bid) : NaN;
  const [base, quote] = symbol.split("/");
  const stateLabel = sub.pending ? "…" : sub.subscribed ? "live" : "off";
  return (
    <section
      className={`panel price-card${selected ? " selected" : ""}${sub.subscribed ? "" : " paused"}`}
      data-testid={`price-${symbol}`}
      data-updates={ticker.updates}
      data-subscribed={sub.subscribed ? "true" : "false"}
      onClick={() => onSelect(symbol)}
    >
      <header className="price-head">
        <span className="sym">
          {base}
          <span className="muted">/{quote}</span>
        </span>
        <button
          type="button"
          className={`toggle ${sub.subscribed ? "on" : "off"}`}
          data-testid={`toggle-${symbol}`}
          disabled={!online || sub.pending}
          aria-pressed={sub.subscribed}
          title={sub.subscribed ? `Unsubscribe from ${symbol}` : `Subscribe to ${symbol}`}
          onClick={(e) => {
            e.stopPropagation();
            onToggle(symbol);
          }}
        >
          <span className="dot" />
          {stateLabel}
        </button>
      </header>
      <div className="price-main">
        <span className={`price num ${ticker.dir}`}>{t ? formatPrice(t.price, d) : "—"}</span>
        <span className={`chg num ${change > 0 ? "up" : change < 0 ? "down" : ""}`}>{t ? formatPct(change) : ""}</span>
      </div>
      <Sparkline values={ticker.history} />
      <dl className="quote num">
        <div>
          <dt>Bid</dt>
          <dd className="up">{t ? formatPrice(t.bid, d) : "—"}</dd>
        </div>
        <div>
          <dt>Ask</dt>
          <dd className="down">{t ? formatPrice(t.ask, d) : "—"}</dd>
        </div>
        <div>
          <dt>Spread</dt>
          <dd>{Number.isFinite(spread) ? formatPrice(spread, d) : "—"}</dd>
        </div>
        <div>
          <dt>Vol 24h</dt>
          <dd>{t ? formatCompact(t.volume24h) : "—"}</dd>
        </div>
      </dl>
      <footer className="price-foot muted num">
        <span>{ticker.updates.toLocaleString("en-US")} ticks</span>
        <span>{t ? formatTime(t.timestamp) : "waiting"}</span>
      </footer>
    </section>
  );
});
