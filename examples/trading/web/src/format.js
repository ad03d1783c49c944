const formats = new Map();

function fmt(min, max, extra = {}) {
  const key = `${min}:${max}:${JSON.stringify(extra)}`;
  let f = formats.get(key);
  if (!f) {
    f = new Intl.NumberFormat("en-US", { minimumFractionDigits: min, maximumFractionDigits: max, ...extra });
    formats.set(key, f);
  }
  return f;
}

const num = (v) => (typeof v === "number" ? v : Number(v));

export function priceDecimals(price) {
  const a = Math.abs(num(price));
  if (a >= 100) return 2;
  if (a >= 1) return 3;
  return 5;
}

export function formatPrice(price, decimals) {
  const v = num(price);
  if (!Number.isFinite(v)) return "—";
  const d = decimals ?? priceDecimals(v);
  return fmt(d, d).format(v);
}

export function formatQty(q) {
  const v = num(q);
  if (!Number.isFinite(v)) return "—";
  return fmt(0, 4).format(v);
}

export function formatSize(q) {
  const v = num(q);
  if (!Number.isFinite(v)) return "—";
  return fmt(4, 4).format(v);
}

export function formatUsd(v, signed = false) {
  const n = num(v);
  if (!Number.isFinite(n)) return "—";
  return fmt(2, 2, signed ? { signDisplay: "exceptZero" } : {}).format(n);
}

// change24h is a percentage (2.5 means +2.5 %).
export function formatPct(v) {
  const n = num(v);
  if (!Number.isFinite(n)) return "—";
  return `${fmt(2, 2, { signDisplay: "exceptZero" }).format(n)}%`;
}

export function formatCount(v) {
  const n = num(v);
  if (!Number.isFinite(n)) return "—";
  return fmt(0, 0).format(n);
}

export function formatCompact(v) {
  const n = num(v);
  if (!Number.isFinite(n)) return "—";
  if (Math.abs(n) < 10000) return fmt(0, 0).format(n);
  return fmt(0, 1, { notation: "compact" }).format(n);
}

// formatTime shows the UTC wall clock of an ISO timestamp with milliseconds.
export function formatTime(ts) {
  const d = ts instanceof Date ? ts : new Date(ts ?? Date.now());
  if (Number.isNaN(d.getTime())) return "--:--:--.---";
  return d.toISOString().slice(11, 23);
}

export function formatAgo(ms) {
  if (ms == null || !Number.isFinite(ms)) return "—";
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s}s ago`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m ${s % 60}s ago`;
  return `${Math.floor(m / 60)}h ${m % 60}m ago`;
}

export function shortId(id, n = 8) {
  if (!id) return "—";
  return id.length > n + 1 ? `${id.slice(0, n)}…` : id;
}
