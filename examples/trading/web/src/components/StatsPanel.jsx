import { useEffect, useRef, useState } from "react";
import { formatCompact, formatCount, formatTime, shortId } from "../format.js";

const POLL_MS = 2000;
const MAX_CLIENTS = 8;

function sum(obj) {
  return Object.values(obj || {}).reduce((a, v) => a + (Number(v) || 0), 0);
}

// useGatewayStats polls /api/stats and derives per-second event rates from
// consecutive snapshots. The page's token goes along as a bearer token: the
// server lists the clients (user ids, e-mails, rooms) only to operators, and
// to everyone in development mode; others get the counts.
function useGatewayStats(token) {
  const [snap, setSnap] = useState({ stats: null, rates: null, error: null, at: null });
  const prev = useRef(null);
  useEffect(() => {
    let timer;
    let stopped = false;
    const ctrl = new AbortController();
    const poll = async () => {
      try {
        const headers = token ? { Authorization: `Bearer ${token}` } : {};
        const res = await fetch("/api/stats", { cache: "no-store", headers, signal: ctrl.signal });
        if (!res.ok) throw new Error(`HTTP ${res.status}`);
        const stats = await res.json();
        const at = performance.now();
        let rates = null;
        const p = prev.current;
        if (p) {
          const dt = (at - p.at) / 1000;
          const c = stats.counters || {};
          const pc = p.stats.counters || {};
          rates = {
            in: Math.max(0, (Number(c.eventsIn) - Number(pc.eventsIn)) / dt),
            out: Math.max(0, (Number(c.eventsOut) - Number(pc.eventsOut)) / dt),
          };
        }
        prev.current = { stats, at };
        setSnap({ stats, rates, error: null, at: Date.now() });
      } catch (err) {
        if (stopped) return;
        setSnap((s) => ({ ...s, error: err.message || String(err) }));
      }
      if (!stopped) timer = setTimeout(poll, POLL_MS);
    };
    poll();
    return () => {
      stopped = true;
      ctrl.abort();
      clearTimeout(timer);
    };
  }, [token]);
  return snap;
}

function Kpi({ k, v, sub, tone }) {
  return (
    <div className="kpi">
      <span className="kpi-k">{k}</span>
      <span className={`kpi-v num ${tone || ""}`}>{v}</span>
      {sub ? <span className="kpi-sub num muted">{sub}</span> : null}
    </div>
  );
}

const rate = (r) => (r == null ? "" : `${r < 10 ? r.toFixed(1) : Math.round(r).toLocaleString("en-US")}/s`);

// StatsPanel is the gateway's own view: clients, rooms, traffic, refusals.
export function StatsPanel({ selfId, token }) {
  const { stats, rates, error, at } = useGatewayStats(token);
  const c = stats?.counters || {};
  const refused = sum(c.refused);
  const listed = Array.isArray(stats?.clients);
  const clients = listed ? stats.clients : [];
  const bad = (n) => (Number(n) > 0 ? "warn" : "");
  return (
    <section className="panel stats">
      <header className="panel-head">
        <h2>Gateway</h2>
        <span className={`muted num ${error ? "down" : ""}`}>
          {error ? `/api/stats: ${error}` : at ? `GET /api/stats · ${formatTime(at).slice(0, 8)}` : "loading…"}
        </span>
      </header>
      <div className="kpis">
        <Kpi k="Clients" v={formatCount(stats?.connectedClients)} />
        <Kpi k="Subscriptions" v={formatCount(stats?.totalSubscriptions)} />
        <Kpi k="Events in" v={formatCompact(c.eventsIn)} sub={rate(rates?.in)} />
        <Kpi k="Events out" v={formatCompact(c.eventsOut)} sub={rate(rates?.out)} />
        <Kpi k="Rate limited" v={formatCount(c.rateLimited ?? 0)} tone={bad(c.rateLimited)} />
        <Kpi
          k="Refused"
          v={formatCount(refused)}
          tone={bad(refused)}
          sub={Object.entries(c.refused || {})
            .filter(([, n]) => n > 0)
            .map(([k, n]) => `${k} ${n}`)
            .join(" ")}
        />
        <Kpi k="Handler errors" v={formatCount(c.handlerErrors ?? 0)} tone={bad(c.handlerErrors)} />
        <Kpi k="Slow consumers" v={formatCount(c.slowConsumers ?? 0)} tone={bad(c.slowConsumers)} />
      </div>
      <table className="clients num">
        <thead>
          <tr>
            <th>Client</th>
            <th>User</th>
            <th>Transport</th>
            <th>Rooms</th>
            <th>Since (UTC)</th>
          </tr>
        </thead>
        <tbody data-testid="stats-clients">
          {clients.slice(0, MAX_CLIENTS).map((cl) => (
            <tr key={cl.id} className={cl.id === selfId ? "self" : ""}>
              <td title={cl.id}>
                {shortId(cl.id, 10)}
                {cl.id === selfId ? <span className="you">you</span> : null}
              </td>
              <td title={cl.email || ""}>{cl.userId || "—"}</td>
              <td>
                <span className={`badge ${cl.transport || ""}`}>{cl.transport || "—"}</span>
              </td>
              <td className="rooms" title={(cl.subscriptions || []).join("\n")}>
                {(cl.subscriptions || []).map((s) => s.replace("market-data:", "md:")).join(" ") || "—"}
              </td>
              <td>{cl.connectedAt ? formatTime(cl.connectedAt).slice(0, 8) : "—"}</td>
            </tr>
          ))}
          {clients.length === 0 ? (
            <tr>
              <td colSpan={5} className="muted">
                {!stats ? "—" : listed ? "No clients" : "The client list needs an operator token"}
              </td>
            </tr>
          ) : null}
        </tbody>
      </table>
      {clients.length > MAX_CLIENTS ? <div className="muted more">+{clients.length - MAX_CLIENTS} more clients</div> : null}
    </section>
  );
}
