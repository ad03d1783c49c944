import { memo } from "react";

const W = 300;
const H = 60;

// Sparkline draws recent prices as a line with a faint area under it; it
// stretches to its box, so the stroke is kept at a constant width.
export const Sparkline = memo(function Sparkline({ values }) {
  if (values.length < 2) return <svg className="spark" viewBox={`0 0 ${W} ${H}`} preserveAspectRatio="none" aria-hidden="true" />;
  let min = Infinity;
  let max = -Infinity;
  for (const v of values) {
    if (v < min) min = v;
    if (v > max) max = v;
  }
  const span = max - min || 1;
  const step = W / (values.length - 1);
  const pad = 3;
  const y = (v) => pad + (H - 2 * pad) * (1 - (v - min) / span);
  const points = values.map((v, i) => `${(i * step).toFixed(1)},${y(v).toFixed(1)}`).join(" ");
  const up = values[values.length - 1] >= values[0];
  return (
    <svg className={`spark ${up ? "up" : "down"}`} viewBox={`0 0 ${W} ${H}`} preserveAspectRatio="none" aria-hidden="true">
      <polygon className="spark-area" points={`0,${H} ${points} ${W},${H}`} />
      <polyline className="spark-line" points={points} vectorEffect="non-scaling-stroke" />
    </svg>
  );
});
