// Drawing primitives of the run plots (plots.ts): a line chart, text, ticks and colours in
// hand-written SVG, sized for sharp's PNG rendering.

export const FONT = "DejaVu Sans, Arial, Helvetica, sans-serif";
/** Matplotlib's tab10, which Ultralytics' plots use. */
export const PALETTE = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"];
export const MEAN_COLOR = "#0b3d91";
const GRID_COLOR = "#e3e3e3";
export const AXIS_COLOR = "#444444";
const MAX_NAME_CHARS = 14;

export interface Series {
  /** Absent: drawn without a legend entry. */
  label?: string;
  xs: number[];
  ys: number[];
  color: string;
  width: number;
  markers?: boolean;
}

interface Frame {
  x: number;
  y: number;
  w: number;
  h: number;
}

interface LineChartOptions {
  title: string;
  xLabel: string;
  yLabel?: string;
  series: Series[];
  xRange?: [number, number];
  yRange?: [number, number];
  /** Ticks on whole numbers only (epochs). */
  integerX?: boolean;
  /** Space on the right for a legend; without it no legend is drawn. */
  legendWidth?: number;
}

/** A line chart (title, axes, ticks, gridlines, series, optional legend) filling `frame`. */
export function lineChart(frame: Frame, opts: LineChartOptions): string {
  const plot = {
    x: frame.x + (opts.yLabel ? 62 : 48),
    y: frame.y + 30,
    w: frame.w - (opts.yLabel ? 62 : 48) - 14 - (opts.legendWidth ?? 0),
    h: frame.h - 30 - 40,
  };
  const allX = opts.series.flatMap((s) => s.xs);
  const allY = opts.series.flatMap((s) => s.ys).filter(Number.isFinite);
  const xTicks = niceTicks(opts.xRange ?? extent(allX), 6, opts.integerX);
  const yTicks = niceTicks(opts.yRange ?? extent(allY), 5);
  const [x0, x1] = [xTicks[0], xTicks[xTicks.length - 1]];
  const [y0, y1] = [yTicks[0], yTicks[yTicks.length - 1]];
  const sx = (v: number) => plot.x + ((v - x0) / (x1 - x0)) * plot.w;
  const sy = (v: number) => plot.y + plot.h - ((v - y0) / (y1 - y0)) * plot.h;
  const parts: string[] = [text(plot.x + plot.w / 2, frame.y + 19, opts.title, { size: 12, anchor: "middle", weight: "bold" })];

  for (const t of xTicks) {
    parts.push(`<line x1="${f(sx(t))}" y1="${plot.y}" x2="${f(sx(t))}" y2="${plot.y + plot.h}" stroke="${GRID_COLOR}"/>`);
    parts.push(text(sx(t), plot.y + plot.h + 14, formatTick(t), { size: 10, anchor: "middle" }));
  }
  for (const t of yTicks) {
    parts.push(`<line x1="${plot.x}" y1="${f(sy(t))}" x2="${plot.x + plot.w}" y2="${f(sy(t))}" stroke="${GRID_COLOR}"/>`);
    parts.push(text(plot.x - 5, sy(t) + 3.5, formatTick(t), { size: 10, anchor: "end" }));
  }
  parts.push(`<rect x="${plot.x}" y="${plot.y}" width="${f(plot.w)}" height="${f(plot.h)}" fill="none" stroke="${AXIS_COLOR}"/>`);
  parts.push(text(plot.x + plot.w / 2, plot.y + plot.h + 31, opts.xLabel, { size: 11, anchor: "middle" }));
  if (opts.yLabel) {
    parts.push(
      `<text x="0" y="0" transform="translate(${frame.x + 16},${f(plot.y + plot.h / 2)}) rotate(-90)" text-anchor="middle" font-family="${FONT}" font-size="11" fill="#222222">${escapeXml(opts.yLabel)}</text>`,
    );
  }

  for (const s of opts.series) {
    const points = s.xs.map((x, i) => [x, s.ys[i]] as const).filter(([, y]) => Number.isFinite(y));
    if (points.length === 0) continue;
    const d = points.map(([x, y], i) => `${i === 0 ? "M" : "L"}${f(sx(x))},${f(sy(y))}`).join("");
    parts.push(`<path class="series" d="${d}" fill="none" stroke="${s.color}" stroke-width="${s.width}" stroke-linejoin="round"/>`);
    if (s.markers) for (const [x, y] of points) parts.push(`<circle cx="${f(sx(x))}" cy="${f(sy(y))}" r="2.2" fill="${s.color}"/>`);
  }

  if (opts.legendWidth) {
    const entries = opts.series.filter((s) => s.label !== undefined);
    // Mean curve (drawn last, on top) first in the legend, as Ultralytics lists "all classes" prominently.
    const ordered = [...entries.slice(-1), ...entries.slice(0, -1)];
    const lx = plot.x + plot.w + 16;
    ordered.forEach((s, i) => {
      const ly = plot.y + 8 + i * 16;
      parts.push(`<line x1="${lx}" y1="${ly}" x2="${lx + 18}" y2="${ly}" stroke="${s.color}" stroke-width="${Math.min(s.width, 3)}"/>`);
      parts.push(text(lx + 24, ly + 3.5, s.label!, { size: 10 }));
    });
  }
  return parts.join("");
}

function extent(values: number[]): [number, number] {
  const finite = values.filter(Number.isFinite);
  if (finite.length === 0) return [0, 1];
  const lo = finite.reduce((a, b) => Math.min(a, b));
  const hi = finite.reduce((a, b) => Math.max(a, b));
  if (lo === hi) return lo === 0 ? [0, 1] : [lo - Math.abs(lo) * 0.1, hi + Math.abs(hi) * 0.1];
  return [lo, hi];
}

/** Round tick values (1, 2, 5 × 10^k steps) covering [lo, hi]. */
function niceTicks([lo, hi]: [number, number], count: number, integer = false): number[] {
  let step = niceStep((hi - lo) / count);
  if (integer) step = Math.max(1, Math.round(step));
  const start = Math.floor(lo / step + 1e-9) * step;
  const end = Math.ceil(hi / step - 1e-9) * step;
  const ticks: number[] = [];
  for (let v = start; v <= end + step * 1e-6; v += step) ticks.push(Number(v.toPrecision(12)));
  return ticks.length >= 2 ? ticks : [start, start + step];
}

function niceStep(raw: number): number {
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  const fraction = raw / magnitude;
  return (fraction <= 1 ? 1 : fraction <= 2 ? 2 : fraction <= 5 ? 5 : 10) * magnitude;
}

function formatTick(value: number): string {
  if (value === 0) return "0";
  const abs = Math.abs(value);
  if (abs >= 1e4 || abs < 1e-3) return value.toExponential(0);
  return String(Number(value.toPrecision(4)));
}

export function text(x: number, y: number, content: string, opts: { size: number; anchor?: "start" | "middle" | "end"; weight?: "bold"; color?: string }): string {
  const anchor = opts.anchor && opts.anchor !== "start" ? ` text-anchor="${opts.anchor}"` : "";
  const weight = opts.weight ? ` font-weight="${opts.weight}"` : "";
  return `<text x="${f(x)}" y="${f(y)}"${anchor}${weight} font-family="${FONT}" font-size="${f(opts.size)}" fill="${opts.color ?? "#222222"}">${escapeXml(content)}</text>`;
}

export function svgDocument(width: number, height: number, body: string): string {
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}"><rect width="${width}" height="${height}" fill="#ffffff"/>${body}</svg>`;
}

export function truncate(name: string): string {
  return name.length > MAX_NAME_CHARS ? `${name.slice(0, MAX_NAME_CHARS - 1)}…` : name;
}

export function escapeXml(value: string): string {
  return value.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&apos;" })[c]!);
}

/** Coordinates to one decimal: enough for pixels, and keeps curve paths short. */
export function f(value: number): string {
  return String(Math.round(value * 10) / 10);
}

export function mean(values: number[]): number {
  return values.length === 0 ? 0 : values.reduce((a, b) => a + b, 0) / values.length;
}

/** White → dark blue, like matplotlib's Blues. */
export function blues(shade: number): string {
  const s = Math.min(1, Math.max(0, shade));
  const from = [247, 251, 255];
  const to = [8, 48, 107];
  const channel = (i: number) => Math.round(from[i] + (to[i] - from[i]) * s);
  return `rgb(${channel(0)},${channel(1)},${channel(2)})`;
}
