import { useEffect, useState } from "react";
import { formatTime } from "../format.js";

const TOAST_MS = 6000;

// ErrorLog lists recent `error` events and connection refusals.
export function ErrorLog({ errors }) {
  return (
    <section className="panel errors">
      <header className="panel-head">
        <h2>Errors</h2>
        <span className="muted num">{errors.length ? `${errors.length} recent` : "none"}</span>
      </header>
      <ol className="log num" data-testid="error-log">
        {errors.length === 0 ? <li className="empty muted">No errors reported.</li> : null}
        {errors.map((e) => (
          <li key={e.seq} className="log-row">
            <span className="muted">{formatTime(e.timestamp ?? e.at)}</span>
            <span className="tag err">{e.code || "ERROR"}</span>
            <span className="log-detail">
              {e.message}
              {e.repeat ? <span className="muted"> ×{e.repeat}</span> : null}
            </span>
          </li>
        ))}
      </ol>
    </section>
  );
}

// Toasts shows each new error for a few seconds in the corner.
export function Toasts({ errors }) {
  const [now, setNow] = useState(() => Date.now());
  const live = errors.filter((e) => now - e.at < TOAST_MS).slice(0, 3);
  const next = live.length ? Math.min(...live.map((e) => e.at + TOAST_MS)) : null;
  useEffect(() => {
    if (next === null) return undefined;
    const id = setTimeout(() => setNow(Date.now()), Math.max(50, next - Date.now()));
    return () => clearTimeout(id);
  }, [next]);
  useEffect(() => {
    setNow(Date.now());
  }, [errors]);
  return (
    <div className="toasts" role="status" aria-live="polite">
      {live.map((e) => (
        <div key={e.seq} className="toast">
          <b>{e.code || "ERROR"}</b>
          <span>{e.message}</span>
        </div>
      ))}
    </div>
  );
}
