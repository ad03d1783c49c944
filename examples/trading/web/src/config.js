// Symbols the demo publishes; the order is the order of the price cards.
export const SYMBOLS = ["BTC/USD", "ETH/USD", "SOL/USD"];

// Channels joined on every (re)connection besides per-symbol market data.
export const CHANNELS = ["trading", "llm"];

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
