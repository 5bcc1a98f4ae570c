import { mkdir, mkdtemp, rename, rm, stat } from "node:fs/promises";
import path from "node:path";
import { Readable } from "node:stream";
import * as tf from "@tensorflow/tfjs";
import { eq } from "drizzle-orm";
import yazl from "yazl";
import type { Db } from "@/db/client";
import { datasets, experiments, validations, weights, type ValidationParams, type WeightsFormat, type WeightsMetrics } from "@/db/schema";
import { tmpDir } from "@/server/datasets/storage";
import { env } from "@/server/env";
import { iouAt } from "@/server/ml/detect/boxes";
import { exportDetectionOnnx } from "@/server/ml/detect/onnx-decode";
import { exportOnnx } from "@/server/ml/export/onnx";
import { exportTfjsLayers } from "@/server/ml/export/tfjs";
import type { ExportOptions } from "./export";
import { inspectWeightsFile } from "./inspect";
import { lockContent, removeContentIfUnused, stagedPath, stageStream, storedWeightsPath, weightsExtension, weightsFilePath, type StagedFile } from "./storage";
import { loadSplitItems } from "./validation-inputs";
import { recordOutcome } from "./validate-work";
import { loadTfjsModel, onnxEngineModel, openEngineModel, tfjsBackend, tfjsEngineModel, type EngineModel, type ModelTask, type TfjsModel } from "./validate-model";
import { validateItems, type ImageResult, type ValidationOutcome } from "./validate-run";

/** fp32 exports must give TF.js' outputs to this (absolute, relative above 1). */
const FP32_TOLERANCE = 1e-4;
/** Boxes below this confidence are left out of the per-image agreement (Ultralytics' predict default). */
const AGREEMENT_CONF = 0.25;
const PARITY_BATCH_SEED = 42;
/** The re-validation's settings, both sides alike (validation's own defaults). */
export const PARITY_VALIDATION = { batch: 16, conf: 0.001, iou: 0.7 };

type WeightsRow = typeof weights.$inferSelect;

export interface MetricChange {
  source: number;
  exported: number;
  change: number;
}

/** How the exported file compares with the model it came from, run on TF.js with identical inputs. */
export interface ParityReport {
  precision: "fp32" | "fp16" | "int8";
  runtime: string;
  referenceRuntime: string;
  /** A fixed seeded batch: the largest |exported − source| over every output value (relative above 1). */
  fixedBatch: { images: number; maxDifference: number; tolerance: number | null };
  validation: {
    datasetId: number;
    split: string;
    images: number;
    /** The metric whose drop decides: mAP50_95 (detection) or top1_acc (classification). */
    metric: string;
    drop: number;
    maxDrop: number;
    metrics: Record<string, MetricChange>;
    perClass: ({ name: string } & MetricChange)[];
    agreement: Record<string, number | null>;
    validationId: number;
  } | null;
  passed: boolean;
  reasons: string[];
  exportSeconds: number;
}

async function stageBytes(bytes: Uint8Array): Promise<StagedFile> {
  return stageStream(Readable.from([Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)]));
}

/** model.json + weights.bin zipped, the layout the library imports. */
async function stageTfjsZip(model: tf.LayersModel): Promise<StagedFile> {
  const dir = await mkdtemp(path.join(tmpDir(), "export-"));
  try {
    await exportTfjsLayers(model, dir);
    const zip = new yazl.ZipFile();
    for (const name of ["model.json", "weights.bin"]) zip.addFile(path.join(dir, name), `model/${name}`);
    zip.end();
    return await stageStream(zip.outputStream as Readable, stagedPath());
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

async function writeExport(loaded: TfjsModel, options: ExportOptions, task: ModelTask, classNames: string[]): Promise<StagedFile> {
  if (options.format === "tfjs") return stageTfjsZip(loaded.model);
  if (!loaded.graph) throw new Error("the weights have no model graph, which ONNX export needs");
  const onnxOptions = { opset: options.opset, dynamicBatch: options.dynamic, batch: options.batch, half: options.half, int8: options.int8, classNames, imgsz: loaded.imgsz };
  const bytes = task === "detect" ? await exportDetectionOnnx(loaded.model, loaded.graph, onnxOptions) : await exportOnnx(loaded.model, loaded.graph, { ...onnxOptions, task });
  return stageBytes(bytes);
}

/** Moves the staged file to its content-addressed place and points the entry at it (unless it was deleted meanwhile). */
async function fileExport(db: Db, id: number, staged: StagedFile, format: WeightsFormat): Promise<string> {
  const relative = storedWeightsPath(staged.sha256, format);
  const target = weightsFilePath(relative);
  try {
    const updated = await db.transaction(async (tx) => {
      await lockContent(tx, staged.sha256);
      if ((await stat(target).catch(() => null))?.size !== staged.bytes) {
        await mkdir(path.dirname(target), { recursive: true });
        await rename(staged.file, target);
      }
      return tx.update(weights).set({ file: relative, bytes: staged.bytes, sha256: staged.sha256 }).where(eq(weights.id, id)).returning({ id: weights.id });
    });
    if (updated.length === 0) await removeContentIfUnused(db, staged.sha256);
    return target;
  } finally {
    await rm(staged.file, { force: true });
  }
}

function maxDifference(reference: Float32Array, exported: Float32Array): number {
  let max = 0;
  for (let i = 0; i < reference.length; i++) max = Math.max(max, Math.abs(exported[i] - reference[i]) / Math.max(1, Math.abs(reference[i])));
  return max;
}

function change(source: number, exported: number): MetricChange {
  return { source, exported, change: exported - source };
}

/** Top-1 agreement, or for boxes: matched (IoU ≥ 0.5) mean IoU, class agreement and the largest confidence change. */
export function agreement(source: ImageResult[], exported: ImageResult[]): Record<string, number | null> {
  if (source[0]?.predicted.top) {
    const same = source.filter((image, i) => image.predicted.top?.[0]?.cls === exported[i]?.predicted.top?.[0]?.cls).length;
    return { top1Agreement: source.length > 0 ? same / source.length : null };
  }
  let matched = 0;
  let iouSum = 0;
  let sameClass = 0;
  let maxConfidenceChange = 0;
  let unmatched = 0;
  source.forEach((image, i) => {
    const a = (image.predicted.boxes ?? []).filter((b) => b.score >= AGREEMENT_CONF);
    const b = (exported[i]?.predicted.boxes ?? []).filter((box) => box.score >= AGREEMENT_CONF);
    const pairs = a.flatMap((p, ai) => b.map((q, bi) => ({ ai, bi, iou: iouAt(p.box, 0, q.box, 0) }))).filter((p) => p.iou >= 0.5).sort((x, y) => y.iou - x.iou);
    const usedA = new Set<number>();
    const usedB = new Set<number>();
    for (const pair of pairs) {
      if (usedA.has(pair.ai) || usedB.has(pair.bi)) continue;
      usedA.add(pair.ai);
      usedB.add(pair.bi);
      matched++;
      iouSum += pair.iou;
      if (a[pair.ai].cls === b[pair.bi].cls) sameClass++;
      maxConfidenceChange = Math.max(maxConfidenceChange, Math.abs(a[pair.ai].score - b[pair.bi].score));
    }
    unmatched += a.length - usedA.size + (b.length - usedB.size);
  });
  return {
    matchedBoxes: matched,
    unmatchedBoxes: unmatched,
    meanIou: matched > 0 ? iouSum / matched : null,
    classAgreement: matched > 0 ? sameClass / matched : null,
    maxConfidenceChange: matched > 0 ? maxConfidenceChange : null,
  };
}

function perClassChanges(task: ModelTask, classNames: string[], source: ValidationOutcome, exported: ValidationOutcome) {
  if (task === "detect") {
    type PerClass = { ap50_95: number | null }[];
    const a = source.details.perClass as PerClass;
    const b = exported.details.perClass as PerClass;
    return classNames.flatMap((name, c) => (a[c].ap50_95 === null ? [] : [{ name, metric: "AP50-95", ...change(a[c].ap50_95!, b[c].ap50_95 ?? 0) }]));
  }
  const a = source.details.recall as number[];
  const b = exported.details.recall as number[];
  return classNames.map((name, c) => ({ name, metric: "recall", ...change(a[c], b[c]) }));
}

/** The split the parity report validates on: the source's dataset (with its run's own split), when it fits. */
async function paritySplit(db: Db, parent: WeightsRow, datasetId: number | null) {
  if (datasetId === null) return null;
  const [dataset] = await db.select().from(datasets).where(eq(datasets.id, datasetId));
  if (!dataset || dataset.status !== "ready" || dataset.task !== parent.task || dataset.classes.join("\u0000") !== parent.classNames.join("\u0000")) return null;
  const [run] = parent.sourceExperimentId ? await db.select().from(experiments).where(eq(experiments.id, parent.sourceExperimentId)) : [];
  const resplit: ValidationParams["resplit"] = run?.splitRatios && run.datasetId === datasetId ? { ratios: run.splitRatios, seed: run.splitSeed } : null;
  for (const split of ["val", "test"]) {
    const items = await loadSplitItems(db, datasetId, split, resplit);
    if (items.length > 0) return { datasetId, split, items, resplit };
  }
  return null;
}

async function parityReport(db: Db, child: WeightsRow, parent: WeightsRow, loaded: TfjsModel, exported: EngineModel, options: ExportOptions, referenceRuntime: string, exportSeconds: number): Promise<{ report: ParityReport; metrics: WeightsMetrics | null }> {
  const task = parent.task as ModelTask;
  const reference = tfjsEngineModel(loaded, task, parent.classNames, referenceRuntime);
  const precision = options.half ? "fp16" : options.int8 ? "int8" : "fp32";
  const reasons: string[] = [];

  const images = exported.fixedBatch ?? 2;
  const batch = tf.tidy(() => tf.randomUniform([images, loaded.imgsz, loaded.imgsz, 3], 0, 1, "float32", PARITY_BATCH_SEED).dataSync() as Float32Array);
  const difference = maxDifference(await reference.run(batch, images), await exported.run(batch, images));
  const tolerance = precision === "fp32" ? FP32_TOLERANCE : null;
  if (tolerance !== null && !(difference <= tolerance)) reasons.push(`the largest output difference ${difference.toExponential(2)} exceeds ${tolerance} for an fp32 export`);

  let validation: ParityReport["validation"] = null;
  let metrics: WeightsMetrics | null = null;
  const split = await paritySplit(db, parent, options.datasetId);
  if (split) {
    const opts = PARITY_VALIDATION;
    const sourceOutcome = await validateItems(reference, split.items, opts);
    const exportedOutcome = await validateItems(exported, split.items, opts);
    const params: ValidationParams = { imgsz: loaded.imgsz, batch: opts.batch, conf: opts.conf, iou: opts.iou, device: options.device, saveJson: false, plots: true, resplit: split.resplit };
    const [row] = await db
      .insert(validations)
      .values({ projectId: child.projectId, weightsId: child.id, datasetId: split.datasetId, split: split.split, purpose: "parity", task, classNames: parent.classNames, params, status: "running", startedAt: new Date() })
      .returning();
    await recordOutcome(db, row, exportedOutcome, exported.runtime);
    const metric = task === "detect" ? "mAP50_95" : "top1_acc";
    const drop = sourceOutcome.metrics[metric] - exportedOutcome.metrics[metric];
    const maxDrop = env().STUDIO_EXPORT_MAX_DROP;
    if (drop > maxDrop) reasons.push(`${metric} drops by ${drop.toFixed(4)} (from ${sourceOutcome.metrics[metric].toFixed(4)} to ${exportedOutcome.metrics[metric].toFixed(4)}), more than STUDIO_EXPORT_MAX_DROP ${maxDrop}`);
    validation = {
      datasetId: split.datasetId,
      split: split.split,
      images: exportedOutcome.images.length,
      metric,
      drop,
      maxDrop,
      metrics: Object.fromEntries(Object.keys(exportedOutcome.metrics).map((key) => [key, change(sourceOutcome.metrics[key], exportedOutcome.metrics[key])])),
      perClass: perClassChanges(task, parent.classNames, sourceOutcome, exportedOutcome),
      agreement: agreement(sourceOutcome.images, exportedOutcome.images),
      validationId: row.id,
    };
    metrics = { values: exportedOutcome.metrics, source: "validation", datasetId: split.datasetId, split: split.split, validatedAt: new Date().toISOString() };
  }
  return {
    report: { precision, runtime: exported.runtime, referenceRuntime, fixedBatch: { images, maxDifference: difference, tolerance }, validation, passed: reasons.length === 0, reasons, exportSeconds },
    metrics,
  };
}

/** The job's work: writes the file, stores it on the child entry, re-validates it and decides ready or failed. */
export async function runExport(db: Db, id: number): Promise<{ weightsId: number; status: string }> {
  const [child] = await db.select().from(weights).where(eq(weights.id, id));
  if (!child || child.status !== "processing") return { weightsId: id, status: child?.status ?? "missing" };
  const options = child.details.export as ExportOptions;
  try {
    const [parent] = child.parentId ? await db.select().from(weights).where(eq(weights.id, child.parentId)) : [];
    if (!parent || parent.status !== "ready") throw new Error("the weights it is exported from are gone");
    const task = parent.task as ModelTask;
    const backend = await tfjsBackend(options.device);
    const started = performance.now();
    const loaded = await loadTfjsModel({ file: weightsFilePath(parent.file), format: parent.format, task, classNames: parent.classNames, model: parent.model, imgsz: parent.imgsz?.[0] ?? null }, options.imgsz);
    try {
      const staged = await writeExport(loaded, options, task, parent.classNames);
      const exportSeconds = (performance.now() - started) / 1000;
      const file = await fileExport(db, id, staged, child.format);
      const inspection = await inspectWeightsFile(file, `export${weightsExtension(child.format)}`);
      const exported =
        child.format === "onnx"
          ? await onnxEngineModel(file, task, parent.classNames, options.device)
          : await openEngineModel({ file, format: child.format, task, classNames: parent.classNames, model: parent.model, imgsz: options.imgsz }, { device: options.device });
      let parity: Awaited<ReturnType<typeof parityReport>>;
      try {
        parity = await parityReport(db, child, parent, loaded, exported, options, `tfjs-${backend}`, exportSeconds);
      } finally {
        await exported.release();
      }
      const status = parity.report.passed ? "ready" : "failed";
      await db
        .update(weights)
        .set({
          status,
          error: parity.report.passed ? null : `The parity check failed: ${parity.report.reasons.join("; ")}`,
          inputShape: inspection.inputShape,
          details: { ...inspection.details, export: options, parity: parity.report },
          metrics: parity.metrics,
          updatedAt: new Date(),
        })
        .where(eq(weights.id, id));
      return { weightsId: id, status };
    } finally {
      loaded.model.dispose();
    }
  } catch (error) {
    await db
      .update(weights)
      .set({ status: "failed", error: `The export failed: ${error instanceof Error ? error.message : String(error)}`, updatedAt: new Date() })
      .where(eq(weights.id, id));
    return { weightsId: id, status: "failed" };
  }
}
