import { useCallback, useEffect, useRef, useState } from "react";
import { SYMBOLS } from "../config.js";
import { useSocketEvent } from "./useSocketEvent.js";

const initialSymbols = () =>
  Object.fromEntries(SYMBOLS.map((s) => [s, { subscribed: false, pending: false }]));

// useSubscriptions keeps the server-side market-data rooms in line with what
// the user wants: every (re)connection re-joins the symbols the user left
// switched on. A symbol counts as subscribed only once the server has
// confirmed it, so the UI never claims a state the gateway has not reached.
export function useSubscriptions(socket, connected) {
  const wanted = useRef(new Set(SYMBOLS));
  const [symbols, setSymbols] = useState(initialSymbols);

  const patch = useCallback((list, fields) => {
    setSymbols((prev) => {
      const next = { ...prev };
      for (const s of list) if (next[s]) next[s] = { ...next[s], ...fields };
      return next;
    });
  }, []);

  useEffect(() => {
    if (!socket || !connected) {
      setSymbols(initialSymbols());
      return;
    }
    const list = SYMBOLS.filter((s) => wanted.current.has(s));
    if (list.length > 0) {
      patch(list, { pending: true });
      socket.emit("subscribe", { channel: "market-data", symbols: list });
    }
  }, [socket, connected, patch]);

  const symbolsOf = (data) => {
    if (Array.isArray(data?.symbols) && data.symbols.length > 0) return data.symbols;
    return data?.room === "market-data" ? SYMBOLS : [];
  };

  useSocketEvent(socket, "subscribed", (data) => {
    if (data?.channel === "market-data") patch(symbolsOf(data), { subscribed: true, pending: false });
  });

  useSocketEvent(socket, "unsubscribed", (data) => {
    if (data?.channel === "market-data") patch(symbolsOf(data), { subscribed: false, pending: false });
  });

  // A refused request (rate limit, validation) gets an `error` event instead
  // of a reply: fall back to the last confirmed state.
  useSocketEvent(socket, "error", () => {
    setSymbols((prev) => {
      if (!Object.values(prev).some((s) => s.pending)) return prev;
      const next = {};
      for (const [s, v] of Object.entries(prev)) {
        next[s] = { ...v, pending: false };
        if (v.subscribed) wanted.current.add(s);
        else wanted.current.delete(s);
      }
      return next;
    });
  });

  const toggle = useCallback(
    (symbol) => {
      if (!socket || !connected) return;
      const on = wanted.current.has(symbol);
      if (on) wanted.current.delete(symbol);
      else wanted.current.add(symbol);
      patch([symbol], { pending: true });
      socket.emit(on ? "unsubscribe" : "subscribe", { channel: "market-data", symbols: [symbol] });
    },
    [socket, connected, patch],
  );

  return { symbols, toggle };
}
