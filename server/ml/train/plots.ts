// The plots/ folder of a run, named and drawn like Ultralytics' (results.png, confusion_matrix*.png,
// PR/F1/P/R curves). Charts are hand-written SVG; sharp (librsvg) turns them into PNG.

import { mkdir } from "node:fs/promises";
import path from "node:path";
import sharp from "sharp";
import type { DetectionReport } from "../metrics/detect";
import { writeFileAtomic } from "./checkpoint";

/** One chart: written as `<name>.png`. */
export interface Plot {
  name: string;
  svg: string;
}

export type DetectionCurves = DetectionReport["curves"];

/** Data a validation hands to the plot writer only: too big for events (NOTIFY payloads are capped at 8 kB). */
export interface ValidationPlotData {
  detectionCurves?: DetectionCurves;
}

const FONT = "DejaVu Sans, Arial, Helvetica, sans-serif";
/** Matplotlib's tab10, which Ultralytics' plots use. */
const PALETTE = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"];
const MEAN_COLOR = "#0b3d91";
const GRID_COLOR = "#e3e3e3";
const AXIS_COLOR = "#444444";
/** Above this many classes, per-class curves lose their legend entries and confusion cells their numbers. */
const MAX_LABELLED_CLASSES = 20;
const MAX_NAME_CHARS = 14;
/** From this many rows on, confusion axes carry no names (they would overlap), as in Ultralytics. */
const MAX_NAMED_AXIS = 100;
/** Points per drawn curve: the 1000 confidence thresholds are thinned to this, invisible at this size. */
const MAX_CURVE_POINTS = 250;

export class PlotError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "PlotError";
  }
}

/** Renders each plot to `<dir>/<name>.png` (temp file + rename, so readers never see half a PNG). */
export async function writePlots(dir: string, plots: Plot[]): Promise<string[]> {
  await mkdir(dir, { recursive: true });
  const files: string[] = [];
  for (const plot of plots) {
    if (!/^[A-Za-z0-9_]+$/.test(plot.name)) throw new PlotError(`plot name "${plot.name}" must be letters, digits and _ only`);
    // Level 3 encodes in a fifth of level 6's time for ~10% bigger files: these are redrawn every epoch.
    const png = await sharp(Buffer.from(plot.svg)).png({ compressionLevel: 3 }).toBuffer();
    const file = path.join(dir, `${plot.name}.png`);
    await writeFileAtomic(file, [png]);
    files.push(file);
  }
  return files;
}

// ---------------------------------------------------------------------------------------------
// results.png

export interface ResultsTable {
  columns: string[];
  /** One row per epoch; undefined where the cell is empty. */
  rows: (number | undefined)[][];
}

export function parseResultsCsv(text: string): ResultsTable {
  const [header, ...lines] = text.split("\n").filter((line) => line.trim() !== "");
  if (!header) throw new PlotError("results.csv is empty");
  const columns = header.split(",").map((c) => c.trim());
  const rows = lines.map((line) => line.split(",").map((cell) => (cell.trim() === "" ? undefined : Number(cell))));
  return { columns, rows };
}

/** results.png: a small chart per results.csv column (losses, metrics, lr) against epoch, five to a row. */
export function resultsPlot(table: ResultsTable): Plot {
  const epochColumn = table.columns.indexOf("epoch");
  if (epochColumn < 0) throw new PlotError(`results table has no "epoch" column (columns: ${table.columns.join(", ")})`);
  const shown = table.columns.map((name, index) => ({ name, index })).filter(({ name }) => name !== "epoch" && name !== "time");
  const perRow = 5;
  const cell = { w: 260, h: 210 };
  const width = perRow * cell.w;
  const height = Math.ceil(shown.length / perRow) * cell.h;
  const epochs = table.rows.map((row) => row[epochColumn]);
  const charts = shown.map(({ name, index }, i) => {
    const points = table.rows.flatMap((row, r) => (epochs[r] !== undefined && row[index] !== undefined && Number.isFinite(row[index]) ? [[epochs[r]!, row[index]!] as const] : []));
    return lineChart(
      { x: (i % perRow) * cell.w, y: Math.floor(i / perRow) * cell.h, w: cell.w, h: cell.h },
      {
        title: name,
        xLabel: "epoch",
        series: [{ label: name, xs: points.map((p) => p[0]), ys: points.map((p) => p[1]), color: PALETTE[0], width: 1.5, markers: points.length <= 50 }],
        integerX: true,
      },
    );
  });
  return { name: "results", svg: svgDocument(width, height, charts.join("")) };
}

// ---------------------------------------------------------------------------------------------
// Confusion matrices

export interface ConfusionInput {
  /** Counts laid out [predicted][true], as Ultralytics keeps them. */
  matrix: number[][];
  /** Axis labels, one per row/column (detection's last one is "background"). */
  labels: string[];
}

/** Classification's confusion[true][predicted] → [predicted][true]. */
export function confusionFromClassify(confusion: number[][], classNames: string[]): ConfusionInput {
  const n = classNames.length;
  checkSquare(confusion, n, "classification confusion");
  return { matrix: classNames.map((_, p) => classNames.map((__, t) => confusion[t][p])), labels: classNames };
}

/** Detection's confusion is already [predicted][true] with a background row and column last. */
export function confusionFromDetect(confusion: number[][], classNames: string[]): ConfusionInput {
  checkSquare(confusion, classNames.length + 1, "detection confusion");
  return { matrix: confusion, labels: [...classNames, "background"] };
}

/** confusion_matrix.png (counts) and confusion_matrix_normalized.png (each true class's column sums to 1). */
export function confusionMatrixPlots(input: ConfusionInput): Plot[] {
  const columnSums = input.labels.map((_, t) => input.matrix.reduce((sum, row) => sum + row[t], 0));
  const normalized = input.matrix.map((row) => row.map((count, t) => (columnSums[t] > 0 ? count / columnSums[t] : 0)));
  return [
    { name: "confusion_matrix", svg: confusionSvg("Confusion Matrix", input.matrix, input.labels, false) },
    { name: "confusion_matrix_normalized", svg: confusionSvg("Confusion Matrix Normalized", normalized, input.labels, true) },
  ];
}

function confusionSvg(title: string, matrix: number[][], labels: string[], normalized: boolean): string {
  const n = labels.length;
  const side = 620;
  const cellSize = side / n;
  const left = 130;
  const top = 50;
  const width = left + side + 90;
  const height = top + side + 120;
  const max = matrix.reduce((m, row) => row.reduce((r, v) => Math.max(r, v), m), 1e-9);
  const showValues = n <= MAX_LABELLED_CLASSES + 1;
  const tickFont = Math.max(6, Math.min(11, cellSize * 0.8));
  const parts: string[] = [text(left + side / 2, 28, title, { size: 14, anchor: "middle", weight: "bold" })];
  // One background for the empty cells: a big matrix is mostly zeros, and each drawn cell costs render time.
  parts.push(`<rect x="${left}" y="${top}" width="${side}" height="${side}" fill="${blues(0)}"/>`);
  matrix.forEach((row, p) =>
    row.forEach((value, t) => {
      if (value <= 0) return;
      const shade = value / max;
      const x = left + t * cellSize;
      const y = top + p * cellSize;
      parts.push(`<rect x="${f(x)}" y="${f(y)}" width="${f(cellSize)}" height="${f(cellSize)}" fill="${blues(shade)}"/>`);
      if (showValues) {
        const label = normalized ? value.toFixed(2) : String(value);
        parts.push(text(x + cellSize / 2, y + cellSize / 2 + 4, label, { size: Math.min(11, cellSize / 3.2), anchor: "middle", color: shade > 0.5 ? "#ffffff" : "#222222" }));
      }
    }),
  );
  parts.push(`<rect x="${left}" y="${top}" width="${side}" height="${side}" fill="none" stroke="${AXIS_COLOR}"/>`);
  if (n < MAX_NAMED_AXIS) {
    labels.forEach((name, i) => {
      const centre = f(left + (i + 0.5) * cellSize);
      // Row labels: predicted class (left); column labels: true class (bottom, turned to fit).
      parts.push(text(left - 6, top + (i + 0.5) * cellSize + tickFont / 3, truncate(name), { size: tickFont, anchor: "end" }));
      parts.push(
        `<text x="0" y="0" transform="translate(${centre},${top + side + 8}) rotate(45)" font-family="${FONT}" font-size="${f(tickFont)}" fill="#222222">${escapeXml(truncate(name))}</text>`,
      );
    });
  }
  parts.push(text(left + side / 2, height - 12, "True", { size: 12, anchor: "middle" }));
  parts.push(`<text x="0" y="0" transform="translate(18,${top + side / 2}) rotate(-90)" text-anchor="middle" font-family="${FONT}" font-size="12" fill="#222222">Predicted</text>`);
  // Colour bar.
  const barX = left + side + 25;
  const steps = 20;
  for (let i = 0; i < steps; i++) {
    parts.push(`<rect x="${barX}" y="${f(top + (i * side) / steps)}" width="16" height="${f(side / steps + 0.5)}" fill="${blues(1 - i / (steps - 1))}"/>`);
  }
  parts.push(`<rect x="${barX}" y="${top}" width="16" height="${side}" fill="none" stroke="${AXIS_COLOR}"/>`);
  parts.push(text(barX + 20, top + 10, normalized ? max.toFixed(2) : String(Math.round(max)), { size: 10 }));
  parts.push(text(barX + 20, top + side, "0", { size: 10 }));
  return svgDocument(width, height, parts.join(""));
}

/** White → dark blue, like matplotlib's Blues. */
function blues(shade: number): string {
  const s = Math.min(1, Math.max(0, shade));
  const from = [247, 251, 255];
  const to = [8, 48, 107];
  const channel = (i: number) => Math.round(from[i] + (to[i] - from[i]) * s);
  return `rgb(${channel(0)},${channel(1)},${channel(2)})`;
}

// ---------------------------------------------------------------------------------------------
// Detection curves

/** PR_curve.png, F1_curve.png, P_curve.png and R_curve.png from a DetectionReport's curves. */
export function detectionCurvePlots(curves: DetectionCurves, classNames: string[]): Plot[] {
  const nc = classNames.length;
  if (curves.pr.precision.length !== nc || curves.confidence.f1.length !== nc) {
    throw new PlotError(`detection curves hold ${curves.pr.precision.length} classes, expected ${nc} (${classNames.join(", ")})`);
  }
  // Classes without ground truth have no PR curve; like Ultralytics, means are over labelled classes only.
  const labelled = classNames.map((_, c) => c).filter((c) => curves.pr.precision[c] !== null);
  const withLegend = nc <= MAX_LABELLED_CLASSES;

  const pr = labelled.map((c) => curves.pr.precision[c]!);
  const prMean = meanCurve(pr, curves.pr.recall.length);
  const classPr = labelled.map((c, i) => ({
    label: withLegend ? `${truncate(classNames[c])} ${mean(pr[i]).toFixed(3)}` : undefined,
    xs: curves.pr.recall,
    ys: pr[i],
    color: withLegend ? PALETTE[c % PALETTE.length] : "#9a9a9a",
    width: 1,
  }));
  const plots: Plot[] = [
    {
      name: "PR_curve",
      svg: curveSvg("Precision-Recall Curve", "Recall", "Precision", [
        ...classPr,
        { label: `all classes ${mean(prMean).toFixed(3)} mAP@0.5`, xs: curves.pr.recall, ys: prMean, color: MEAN_COLOR, width: 3 },
      ]),
    },
  ];

  const threshold = curves.confidence.threshold;
  const byConfidence: [string, string, number[][]][] = [
    ["F1_curve", "F1", curves.confidence.f1],
    ["P_curve", "Precision", curves.confidence.precision],
    ["R_curve", "Recall", curves.confidence.recall],
  ];
  for (const [name, yLabel, perClass] of byConfidence) {
    const ys = labelled.map((c) => perClass[c]);
    const meanYs = meanCurve(ys, threshold.length);
    const best = meanYs.reduce((b, y, i) => (y > meanYs[b] ? i : b), 0);
    plots.push({
      name,
      svg: curveSvg(`${yLabel}-Confidence Curve`, "Confidence", yLabel, [
        ...labelled.map((c, i) => ({
          label: withLegend ? truncate(classNames[c]) : undefined,
          xs: thin(threshold),
          ys: thin(ys[i]),
          color: withLegend ? PALETTE[c % PALETTE.length] : "#9a9a9a",
          width: 1,
        })),
        {
          label: `all classes ${(meanYs[best] ?? 0).toFixed(2)} at ${(threshold[best] ?? 0).toFixed(3)}`,
          xs: thin(threshold),
          ys: thin(meanYs),
          color: MEAN_COLOR,
          width: 3,
        },
      ]),
    });
  }
  return plots;
}

function curveSvg(title: string, xLabel: string, yLabel: string, series: Series[]): string {
  const width = 760;
  const height = 520;
  return svgDocument(width, height, lineChart({ x: 0, y: 0, w: width, h: height }, { title, xLabel, yLabel, series, xRange: [0, 1], yRange: [0, 1], legendWidth: 220 }));
}

function meanCurve(curves: number[][], length: number): number[] {
  return Array.from({ length }, (_, i) => mean(curves.map((curve) => curve[i])));
}

function thin(values: number[]): number[] {
  const step = Math.ceil(values.length / MAX_CURVE_POINTS);
  return values.filter((_, i) => i % step === 0 || i === values.length - 1);
}

// ---------------------------------------------------------------------------------------------
// What a validation turns into

/**
 * The plots of one validation: confusion matrices from `details.confusion` (classification's
 * [true][pred] or detection's [pred][gt] with background) and, for detection, the curves.
 */
export function validationPlots(task: "classify" | "detect", classNames: string[], validation: { details?: Record<string, unknown>; plots?: ValidationPlotData }): Plot[] {
  const plots: Plot[] = [];
  const confusion = validation.details?.confusion;
  if (confusion !== undefined) {
    if (!isMatrix(confusion)) throw new PlotError(`validation details.confusion of the ${task} run is not a matrix of numbers`);
    plots.push(...confusionMatrixPlots(task === "classify" ? confusionFromClassify(confusion, classNames) : confusionFromDetect(confusion, classNames)));
  }
  if (validation.plots?.detectionCurves) plots.push(...detectionCurvePlots(validation.plots.detectionCurves, classNames));
  return plots;
}

function isMatrix(value: unknown): value is number[][] {
  return Array.isArray(value) && value.every((row) => Array.isArray(row) && row.every((cell) => typeof cell === "number"));
}

function checkSquare(matrix: number[][], n: number, what: string): void {
  if (matrix.length !== n || matrix.some((row) => row.length !== n)) {
    throw new PlotError(`${what} is ${matrix.length}×${matrix[0]?.length ?? 0}, expected ${n}×${n}`);
  }
}

// ---------------------------------------------------------------------------------------------
// SVG pieces

interface Series {
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
function lineChart(frame: Frame, opts: LineChartOptions): string {
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

function text(x: number, y: number, content: string, opts: { size: number; anchor?: "start" | "middle" | "end"; weight?: "bold"; color?: string }): string {
  const anchor = opts.anchor && opts.anchor !== "start" ? ` text-anchor="${opts.anchor}"` : "";
  const weight = opts.weight ? ` font-weight="${opts.weight}"` : "";
  return `<text x="${f(x)}" y="${f(y)}"${anchor}${weight} font-family="${FONT}" font-size="${f(opts.size)}" fill="${opts.color ?? "#222222"}">${escapeXml(content)}</text>`;
}

function svgDocument(width: number, height: number, body: string): string {
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}"><rect width="${width}" height="${height}" fill="#ffffff"/>${body}</svg>`;
}

function truncate(name: string): string {
  return name.length > MAX_NAME_CHARS ? `${name.slice(0, MAX_NAME_CHARS - 1)}…` : name;
}

function escapeXml(value: string): string {
  return value.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&apos;" })[c]!);
}

/** Coordinates to one decimal: enough for pixels, and keeps curve paths short. */
function f(value: number): string {
  return String(Math.round(value * 10) / 10);
}

function mean(values: number[]): number {
  return values.length === 0 ? 0 : values.reduce((a, b) => a + b, 0) / values.length;
}
