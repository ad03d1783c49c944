// Symbols the demo publishes; the order is the order of the price cards.
export const SYMBOLS = ["BTC/USD", "ETH/USD", "SOL/USD"];

// The page subscribes only to per-symbol market data, which is public. The
// user's own fills, positions, balance and LLM answers need no subscription:
// the gateway puts every connection in its user's room (user:<id>) at
// connect, and the demo sends them there alone. They must never go to a
// shared room such as "trading", where every subscriber would see them.

const DEFAULT_TRANSPORTS = ["websocket", "polling"];
const KNOWN_TRANSPORTS = new Set(DEFAULT_TRANSPORTS);

// readConnectionParams turns the page query into socket options:
// ?token=... is sent as auth {token}; ?transports=polling (or a comma list)
// restricts the Engine.IO transports, defaulting to websocket then polling.
export function readConnectionParams(search) {
  const params = new URLSearchParams(search);
  const token = params.get("token") || undefined;
  const requested = (params.get("transports") || "")
    .split(",")
    .map((t) => t.trim())
    .filter((t) => KNOWN_TRANSPORTS.has(t));
  return {
    token,
    transports: requested.length > 0 ? [...new Set(requested)] : DEFAULT_TRANSPORTS,
  };
}
