"use client";

import { useT } from "./i18n";

export interface ChartSeries {
  name: string;
  points: { x: number; y: number }[];
}

const COLOURS = ["#2563eb", "#dc2626", "#16a34a", "#9333ea", "#ea580c", "#0891b2", "#ca8a04", "#db2777"];

function ticks(min: number, max: number, count: number): number[] {
  if (min === max) return [min];
  return Array.from({ length: count }, (_, i) => min + ((max - min) * i) / (count - 1));
}

const format = (v: number) => (Math.abs(v) >= 100 || v === 0 ? v.toFixed(0) : Math.abs(v) >= 1 ? v.toFixed(2) : v.toPrecision(2));

/** Several series overlaid on one set of axes; plain SVG, no chart library. `title` names the figure for assistive tech and tests; `caption` is what the reader sees (the title when absent). */
export function LineChart({ title, caption = title, series, xLabel, height = 220 }: { title: string; caption?: string; series: ChartSeries[]; xLabel?: string; height?: number }) {
  const { t } = useT();
  const width = 560;
  const pad = { left: 52, right: 12, top: 24, bottom: 34 };
  const all = series.flatMap((s) => s.points).filter((p) => Number.isFinite(p.y));
  if (all.length === 0) {
    return (
      <figure className="panel chart" aria-label={title}>
        <figcaption>{caption}</figcaption>
        <p className="empty">{t("noPoints")}</p>
      </figure>
    );
  }
  const xMin = Math.min(...all.map((p) => p.x));
  const xMax = Math.max(...all.map((p) => p.x));
  let yMin = Math.min(...all.map((p) => p.y));
  let yMax = Math.max(...all.map((p) => p.y));
  if (yMin === yMax) {
    yMin -= 0.5;
    yMax += 0.5;
  }
  const sx = (x: number) => pad.left + (xMax === xMin ? 0.5 : (x - xMin) / (xMax - xMin)) * (width - pad.left - pad.right);
  const sy = (y: number) => pad.top + (1 - (y - yMin) / (yMax - yMin)) * (height - pad.top - pad.bottom);
  return (
    <figure className="panel chart" aria-label={title} data-testid="chart" data-points={all.length}>
      <figcaption>{caption}</figcaption>
      <svg viewBox={`0 0 ${width} ${height}`} width="100%" role="img" aria-label={`${title} chart`}>
        {ticks(yMin, yMax, 5).map((y) => (
          <g key={`y${y}`}>
            <line x1={pad.left} x2={width - pad.right} y1={sy(y)} y2={sy(y)} stroke="#e5e7eb" />
            <text x={pad.left - 6} y={sy(y) + 4} textAnchor="end" fontSize="10" fill="#6b7280">
              {format(y)}
            </text>
          </g>
        ))}
        {ticks(xMin, xMax, Math.min(6, Math.max(2, Math.round(xMax - xMin) + 1))).map((x) => (
          <text key={`x${x}`} x={sx(x)} y={height - pad.bottom + 14} textAnchor="middle" fontSize="10" fill="#6b7280">
            {format(x)}
          </text>
        ))}
        <text x={(width + pad.left) / 2} y={height - 4} textAnchor="middle" fontSize="10" fill="#6b7280">
          {xLabel ?? t("epochAxis")}
        </text>
        {series.map((s, i) => {
          const points = s.points.filter((p) => Number.isFinite(p.y));
          const colour = COLOURS[i % COLOURS.length];
          return (
            <g key={s.name}>
              <polyline fill="none" stroke={colour} strokeWidth="1.8" points={points.map((p) => `${sx(p.x)},${sy(p.y)}`).join(" ")} />
              {points.length < 40 && points.map((p) => <circle key={`${p.x}`} cx={sx(p.x)} cy={sy(p.y)} r="2.5" fill={colour} />)}
            </g>
          );
        })}
      </svg>
      <div className="row legend">
        {series.map((s, i) => (
          <span key={s.name} style={{ color: COLOURS[i % COLOURS.length] }}>
            ■ {s.name}
          </span>
        ))}
      </div>
    </figure>
  );
}
