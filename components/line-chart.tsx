"use client";

import { useEffect, useMemo, useRef, useState } from "react";
import uPlot from "uplot";
import "uplot/dist/uPlot.min.css";
import { useT } from "./i18n";

export interface ChartSeries {
  name: string;
  points: { x: number; y: number }[];
}

export interface LineChartProps {
  /** Names the figure for assistive tech and tests. */
  title: string;
  /** What the reader sees (the title when absent). */
  caption?: string;
  series: ChartSeries[];
  xLabel?: string;
  yLabel?: string;
  height?: number;
  /** "epoch" (the default without an xLabel): integer ticks; "time": x in milliseconds since 1970; "value": plain numbers. */
  xKind?: "epoch" | "time" | "value";
  /** Start on a logarithmic y axis (the reader can switch). */
  logY?: boolean;
  /** Start with this exponential smoothing, 0 (none) to 0.99 (the reader can change it). */
  smoothing?: number;
  /** Fixed axis ranges (e.g. [0, 1] for precision-recall); the data's range otherwise. */
  xRange?: [number, number];
  yRange?: [number, number];
}

const COLOURS = ["#2563eb", "#dc2626", "#16a34a", "#9333ea", "#ea580c", "#0891b2", "#ca8a04", "#db2777"];

/** Short tick and legend text: integers as they are, else three significant digits. */
export function formatValue(v: number | null | undefined): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return "—";
  if (Number.isInteger(v) && Math.abs(v) < 1e6) return String(v);
  const abs = Math.abs(v);
  if (abs >= 1e4 || (abs > 0 && abs < 1e-3)) return v.toExponential(2);
  return Number(v.toPrecision(3)).toString();
}

/** TensorBoard's smoothing: an exponential moving average, debiased so the first points are not pulled to 0. */
export function smooth(points: { x: number; y: number }[], weight: number): { x: number; y: number }[] {
  if (weight <= 0) return points;
  let last = 0;
  let count = 0;
  return points.map((p) => {
    if (!Number.isFinite(p.y)) return p;
    last = last * weight + (1 - weight) * p.y;
    count++;
    return { x: p.x, y: last / (1 - weight ** count) };
  });
}

/** The series on one shared, sorted x axis (uPlot's data layout), null where a series has no point. */
export function alignSeries(series: ChartSeries[], opts: { smoothing: number; logY: boolean }): uPlot.AlignedData {
  const sorted = series.map((s) => smooth([...s.points].filter((p) => Number.isFinite(p.x)).sort((a, b) => a.x - b.x), opts.smoothing));
  const xs = [...new Set(sorted.flatMap((points) => points.map((p) => p.x)))].sort((a, b) => a - b);
  const index = new Map(xs.map((x, i) => [x, i]));
  const ys = sorted.map((points) => {
    const column: (number | null)[] = new Array(xs.length).fill(null);
    for (const p of points) if (Number.isFinite(p.y) && (!opts.logY || p.y > 0)) column[index.get(p.x)!] = p.y;
    return column;
  });
  return [xs, ...ys];
}

/** The nearest index to `idx` where the column has a value (series with gaps still show a hover value). */
function nearestValue(column: (number | null | undefined)[], idx: number): number | null {
  for (let d = 0; d < column.length; d++) {
    for (const i of [idx - d, idx + d]) {
      const v = column[i];
      if (v !== null && v !== undefined) return v;
    }
  }
  return null;
}

/**
 * Several series on one set of axes, drawn by uPlot: hover shows each value, dragging zooms (double-click
 * or the reset button zooms out), the y axis can go logarithmic, and noisy curves can be smoothed.
 */
export function LineChart({ title, caption = title, series, xLabel, yLabel, height = 220, xKind = xLabel === undefined ? "epoch" : "value", logY: initialLog = false, smoothing: initialSmoothing = 0, xRange, yRange }: LineChartProps) {
  const { t } = useT();
  const holder = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  const [logY, setLogY] = useState(initialLog);
  const [smoothing, setSmoothing] = useState(initialSmoothing);
  const [hoverIdx, setHoverIdx] = useState<number | null>(null);
  const [hidden, setHidden] = useState<Set<string>>(new Set());

  const finite = series.reduce((n, s) => n + s.points.filter((p) => Number.isFinite(p.y)).length, 0);
  const canLog = series.some((s) => s.points.some((p) => p.y > 0));
  const useLog = logY && canLog;
  const data = useMemo(() => {
    const aligned = alignSeries(series, { smoothing, logY: useLog });
    // uPlot's time axis counts seconds.
    return xKind === "time" ? ([aligned[0].map((x) => x / 1000), ...aligned.slice(1)] as uPlot.AlignedData) : aligned;
  }, [series, smoothing, useLog, xKind]);
  const names = series.map((s) => s.name).join("\u0000");

  useEffect(() => {
    const el = holder.current;
    if (!el || finite === 0) return;
    const integerX = xKind === "epoch";
    const options: uPlot.Options = {
      width: Math.max(200, el.clientWidth),
      height,
      legend: { show: false },
      cursor: { drag: { x: true, y: false }, points: { size: 6 } },
      scales: {
        x: { time: xKind === "time", ...(xRange && { range: xRange }) },
        y: useLog ? { distr: 3, log: 10 } : yRange ? { range: yRange } : {},
      },
      axes: [
        {
          label: xLabel ?? t("epochAxis"),
          labelSize: 18,
          ...(integerX && { incrs: [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000], values: (_u: uPlot, splits: number[]) => splits.map((v) => String(Math.round(v))) }),
          ...(xKind === "value" && { values: (_u: uPlot, splits: number[]) => splits.map(formatValue) }),
        },
        { label: yLabel, labelSize: yLabel ? 18 : 0, size: 56, values: (_u: uPlot, splits: number[]) => splits.map(formatValue) },
      ],
      series: [
        {},
        ...series.map((s, i) => ({
          label: s.name,
          stroke: COLOURS[i % COLOURS.length],
          width: 1.8,
          spanGaps: true,
          show: !hidden.has(s.name),
          points: { show: s.points.length <= 40 },
        })),
      ],
      hooks: { setCursor: [(u: uPlot) => setHoverIdx(u.cursor.idx ?? null)] },
    };
    const u = new uPlot(options, data, el);
    plot.current = u;
    const resize = new ResizeObserver(() => u.setSize({ width: Math.max(200, el.clientWidth), height }));
    resize.observe(el);
    return () => {
      resize.disconnect();
      u.destroy();
      plot.current = null;
    };
    // Series identity is by name; the data array carries the values (ranges are fixed per chart).
  }, [data, names, height, xKind, useLog, xLabel, yLabel, hidden, finite]);

  if (finite === 0) {
    return (
      <figure className="panel chart" aria-label={title} data-testid="chart" data-points={0}>
        <figcaption>{caption}</figcaption>
        <p className="empty">{t("noPoints")}</p>
      </figure>
    );
  }
  const toggle = (name: string) =>
    setHidden((h) => {
      const next = new Set(h);
      if (next.has(name)) next.delete(name);
      else next.add(name);
      return next;
    });
  return (
    <figure className="panel chart" aria-label={title} data-testid="chart" data-points={finite}>
      <figcaption className="row wrap" style={{ justifyContent: "space-between" }}>
        <span>{caption}</span>
        <span className="row wrap" style={{ gap: 8, fontSize: 12 }}>
          <label title={t("logScale")}>
            <input type="checkbox" checked={useLog} disabled={!canLog} onChange={(e) => setLogY(e.target.checked)} aria-label={`${title} log scale`} /> log
          </label>
          <label title={t("smoothing")}>
            {t("smoothing")}
            <input type="range" min={0} max={0.99} step={0.01} value={smoothing} onChange={(e) => setSmoothing(Number(e.target.value))} aria-label={`${title} smoothing`} style={{ width: 70 }} />
            <span className="muted">{smoothing.toFixed(2)}</span>
          </label>
          <button type="button" onClick={() => plot.current && plot.current.setData(plot.current.data, true)} title={t("resetZoom")} aria-label={`${title} reset zoom`}>
            ↺
          </button>
        </span>
      </figcaption>
      <div ref={holder} style={{ width: "100%" }} role="img" aria-label={`${title} chart`} />
      <div className="row wrap legend">
        {series.map((s, i) => {
          const column = data[i + 1] as (number | null)[];
          const value = hoverIdx === null ? null : nearestValue(column, hoverIdx);
          return (
            <button
              key={s.name}
              type="button"
              onClick={() => toggle(s.name)}
              style={{ color: COLOURS[i % COLOURS.length], opacity: hidden.has(s.name) ? 0.4 : 1, background: "none", border: "none", padding: "0 4px", cursor: "pointer" }}
              aria-pressed={!hidden.has(s.name)}
            >
              ■ {s.name}
              {hoverIdx !== null && <span className="muted"> {formatValue(value)}</span>}
            </button>
          );
        })}
        {hoverIdx !== null && (
          <span className="muted" data-testid="chart-hover-x">
            {xLabel ?? t("epochAxis")} {xKind === "time" ? new Date((data[0][hoverIdx] ?? 0) * 1000).toLocaleTimeString() : formatValue(data[0][hoverIdx])}
          </span>
        )}
      </div>
    </figure>
  );
}
