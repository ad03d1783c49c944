import { useReducer } from "react";
import { SYMBOLS } from "../config.js";
import { useSocketEvent } from "../hooks/useSocketEvent.js";
import { PriceCard } from "./PriceCard.jsx";

const HISTORY = 90;

const initial = () =>
  Object.fromEntries(SYMBOLS.map((s) => [s, { last: null, history: [], updates: 0, dir: "" }]));

function reduce(state, t) {
  const cur = state[t.symbol];
  if (!cur) return state;
  const price = Number(t.price);
  const prev = cur.last ? Number(cur.last.price) : price;
  const history = cur.history.length >= HISTORY ? cur.history.slice(1) : cur.history.slice();
  if (Number.isFinite(price)) history.push(price);
  const dir = price > prev ? "up" : price < prev ? "down" : cur.dir;
  return { ...state, [t.symbol]: { last: t, history, updates: cur.updates + 1, dir } };
}

// Prices shows one card per symbol, fed by `ticker:update`.
export function Prices({ socket, subs, onToggle, selected, onSelect, online }) {
  const [tickers, dispatch] = useReducer(reduce, undefined, initial);
  useSocketEvent(socket, "ticker:update", (t) => {
    if (t && typeof t.symbol === "string") dispatch(t);
  });
  return SYMBOLS.map((s) => (
    <PriceCard
      key={s}
      symbol={s}
      ticker={tickers[s]}
      sub={subs[s]}
      selected={selected === s}
      onSelect={onSelect}
      onToggle={onToggle}
      online={online}
    />
  ));
}
