// The plots/ folder of a run, named and drawn like Ultralytics' (results.png, confusion_matrix*.png,
// PR/F1/P/R curves): the recipes. The drawing primitives (charts, text, colours) are in plot-svg.ts;
// sharp (librsvg) turns the SVG into PNG.

import { mkdir } from "node:fs/promises";
import path from "node:path";
import sharp from "sharp";
import type { DetectionReport } from "../metrics/detect";
import { writeFileAtomic } from "./checkpoint";
import { AXIS_COLOR, blues, escapeXml, f, FONT, lineChart, mean, MEAN_COLOR, PALETTE, svgDocument, text, truncate, type Series } from "./plot-svg";

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

/** Above this many classes, per-class curves lose their legend entries and confusion cells their numbers. */
const MAX_LABELLED_CLASSES = 20;
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

