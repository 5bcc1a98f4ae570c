import { mkdtemp, rm, stat } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { count, eq } from "drizzle-orm";
import type PgBoss from "pg-boss";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { datasetItems, datasets, experiments, validationPredictions, weights } from "@/db/schema";
import { seedMemberViewerAndOutsider } from "@/db/testing/fixtures";
import { createTestDb, type TestDb } from "@/db/testing/test-db";
import { exportFormats, exportModel, validateModel } from "@/server/compat/training-module/weights-handlers";
import { exportV1Weights } from "@/server/compat/studio-v1/weights";
import { bearer, jsonRequest, getRequest, routeContext } from "@/server/compat/shared/testing";
import { createApiKey } from "@/server/auth/api-keys";
import type { Ctx } from "@/server/context";
import { datasetDir } from "@/server/datasets/storage";
import { getDatasetForTraining } from "@/server/datasets/training";
import { resetEnvCache } from "@/server/env";
import { Forbidden, Invalid, NotFound } from "@/server/errors";
import { startBoss, stopBoss } from "@/server/jobs/boss";
import { jobRegistry } from "@/server/jobs/index";
import { workJobs } from "@/server/jobs/registry";
import { readDetectDataset } from "@/server/ml/data/detect-format";
import { makeShapesImageFolder } from "@/server/ml/data/testing/shapes";
import { writeShapesDataset } from "@/server/ml/detect/testing/shapes-dataset";
import { readCheckpointHeader } from "@/server/ml/train/checkpoint";
import { train } from "@/server/ml/train/loop";
import { yolov8Graph, YOLOV8_SCALES } from "@/server/ml/zoo/yolov8";
import { defaultProject } from "@/server/projects/service";
import type { ParityReport } from "./export-work";
import { exportWeights, waitForExport } from "./export";
import { getWeights, saveExperimentWeights, weightsDownload, type WeightsView } from "./service";
import { validateWeights, waitForValidation } from "./validate";

let tdb: TestDb;
let work: string;
let boss: PgBoss;
let member: Ctx;
let viewer: Ctx;
let outsider: Ctx;
let key: string;
let projectId: number;

const WAIT = 120_000;

async function insertDataset(name: string, task: "classify" | "detect", classes: string[]): Promise<number> {
  const [row] = await tdb.db.insert(datasets).values({ projectId, name, task, format: task === "classify" ? "imagefolder" : "yolo", status: "ready", classes, progress: 1 }).returning({ id: datasets.id });
  return row.id;
}

/** A ready classification dataset of generated shapes, stored as an import leaves it. */
async function classifyDataset(name: string, classes = 2): Promise<number> {
  const id = await insertDataset(name, "classify", []);
  const root = datasetDir(id);
  const shapes = await makeShapesImageFolder(root, { classes, perClass: 8, size: 32, seed: 3, layout: "split" });
  await tdb.db.update(datasets).set({ classes: shapes.classes }).where(eq(datasets.id, id));
  await tdb.db.insert(datasetItems).values(
    shapes.files.map((file) => {
      const rel = path.relative(root, file.path).split(path.sep).join("/");
      return { datasetId: id, path: rel, split: rel.split("/")[0] as "train" | "val", bytes: 1, sha256: "x", width: 32, height: 32, label: file.label };
    }),
  );
  return id;
}

async function detectDataset(name: string): Promise<number> {
  const id = await insertDataset(name, "detect", []);
  const root = datasetDir(id);
  await writeShapesDataset(root, { train: 8, val: 4, seed: 6, classes: 2, minSize: 48, maxSize: 64 });
  const index = await readDetectDataset(root, { seed: 0 });
  await tdb.db.update(datasets).set({ classes: index.classes }).where(eq(datasets.id, id));
  await tdb.db.insert(datasetItems).values(
    index.items.map((item) => ({ datasetId: id, path: path.relative(root, item.path).split(path.sep).join("/"), split: item.split, bytes: 1, sha256: "x", width: item.width ?? 0, height: item.height ?? 0, boxes: item.boxes })),
  );
  return id;
}

/** Trains one epoch on the dataset as a run would, and saves its best checkpoint into the library. */
async function trainedWeights(datasetId: number, task: "classify" | "detect", name: string): Promise<{ entry: WeightsView; trainingMetrics: Record<string, number>; experimentId: number }> {
  const dataset = await getDatasetForTraining(member, datasetId);
  const model = task === "classify" ? "reference-cnn" : yolov8Graph({ numClasses: 2, scale: YOLOV8_SCALES.n, width: 0.125 });
  const result = await train({ task, data: dataset.index, model, imgsz: task === "classify" ? 32 : 64, epochs: 1, batch: 8, warmup_epochs: 0, runsDir: path.join(work, "data", "runs"), project: "default", name, device: "auto", seed: 1 } as Parameters<typeof train>[0]);
  const header = await readCheckpointHeader(result.bestCheckpoint);
  const [run] = await tdb.db.insert(experiments).values({ projectId, name, task, datasetId, model: task === "classify" ? "reference-cnn" : null, hyperparameters: {}, status: "completed", runDir: result.runDir }).returning();
  const entry = await saveExperimentWeights(member, run.id, { which: "best" });
  return { entry, trainingMetrics: header.metrics ?? {}, experimentId: run.id };
}

let classifyData: number;
let detectData: number;
let classifier: Awaited<ReturnType<typeof trainedWeights>>;
let detector: Awaited<ReturnType<typeof trainedWeights>>;

beforeAll(async () => {
  work = await mkdtemp(path.join(os.tmpdir(), "weights-val-"));
  process.env.STUDIO_DATA_DIR = path.join(work, "data");
  resetEnvCache();
  tdb = await createTestDb();
  ({ member, outsider, viewer } = await seedMemberViewerAndOutsider(tdb.db));
  key = (await createApiKey(member, { name: "scripts" })).key;
  projectId = (await defaultProject(member)).id;
  boss = await startBoss(tdb.url, jobRegistry);
  await workJobs(boss, jobRegistry, { db: tdb.db, slots: 1, pollingIntervalSeconds: 0.5 });
  classifyData = await classifyDataset("shapes");
  detectData = await detectDataset("boxes");
  classifier = await trainedWeights(classifyData, "classify", "cls");
  detector = await trainedWeights(detectData, "detect", "det");
}, 600_000);

afterAll(async () => {
  if (boss) await stopBoss(boss, 2000);
  await tdb?.close();
  await rm(work, { recursive: true, force: true });
});

const predictionRows = async (validationId: number) =>
  (await tdb.db.select({ n: count() }).from(validationPredictions).where(eq(validationPredictions.validationId, validationId)))[0].n;

describe("validation", () => {
  it("of a trained classifier gives the metrics the training loop computed for that epoch, with a row per image", async () => {
    const queued = await validateWeights(member, { weightsId: classifier.entry.id, split: "val" }, { boss });
    expect(queued.status).toBe("queued");
    const done = await waitForValidation(member, queued.id, WAIT);
    expect(done.status, done.error ?? "").toBe("completed");
    for (const key of ["top1_acc", "top5_acc", "macro_f1", "micro_f1"]) expect(done.metrics![key]).toBeCloseTo(classifier.trainingMetrics[key], 6);
    const valImages = (await tdb.db.select().from(datasetItems).where(eq(datasetItems.datasetId, classifyData))).filter((i) => i.split === "val").length;
    expect(done.images).toBe(valImages);
    expect(await predictionRows(done.id)).toBe(valImages);
    expect(done.speed!.inference).toBeGreaterThan(0);
    expect((await stat(path.join(work, "data", done.resultsDir!, "confusion_matrix.png"))).isFile()).toBe(true);
    // The entry shows its latest validation.
    expect((await getWeights(member, classifier.entry.id)).metrics).toMatchObject({ source: "validation", split: "val", values: { top1_acc: done.metrics!.top1_acc } });
  });

  it("of a trained detector gives the training loop's mAP and writes COCO predictions.json", async () => {
    const queued = await validateWeights(member, { weightsId: detector.entry.id, saveJson: true }, { boss });
    const done = await waitForValidation(member, queued.id, WAIT);
    expect(done.status, done.error ?? "").toBe("completed");
    for (const key of ["mAP50", "mAP50_95", "precision", "recall"]) expect(done.metrics![key]).toBeCloseTo(detector.trainingMetrics[key], 6);
    expect(await predictionRows(done.id)).toBe(4);
    expect((await stat(path.join(work, "data", done.resultsDir!, "predictions.json"))).isFile()).toBe(true);
    expect((await stat(path.join(work, "data", done.resultsDir!, "PR_curve.png"))).isFile()).toBe(true);
  });

  it("refuses, before any work, a dataset of another task, other classes, an empty split; hides other teams, forbids viewers", async () => {
    const other = await classifyDataset("three", 3);
    const refusal = async (input: Parameters<typeof validateWeights>[1]) => (await validateWeights(member, input, { boss }).catch((e: unknown) => e)) as Invalid;
    expect((await refusal({ weightsId: classifier.entry.id, datasetId: detectData })).fields).toHaveProperty("datasetId");
    expect((await refusal({ weightsId: classifier.entry.id, datasetId: other })).message).toMatch(/classes/);
    const empty = await refusal({ weightsId: classifier.entry.id, split: "test" });
    expect(empty).toBeInstanceOf(Invalid);
    expect(empty.fields).toHaveProperty("split");
    await expect(validateWeights(outsider, { weightsId: classifier.entry.id }, { boss })).rejects.toThrow(NotFound);
    await expect(validateWeights(viewer, { weightsId: classifier.entry.id }, { boss })).rejects.toThrow(Forbidden);
  });
});

const parityOf = (entry: WeightsView) => entry.details.parity as ParityReport;

describe("export", () => {
  it("fp32 ONNX agrees with TF.js within 1e-4 and the parity report says so; the download works", async () => {
    const child = await exportWeights(member, { weightsId: classifier.entry.id, format: "onnx" }, { boss });
    expect(child).toMatchObject({ status: "processing", parentId: classifier.entry.id, format: "onnx" });
    const done = await waitForExport(member, child.id, WAIT);
    expect(done.status, done.error ?? "").toBe("ready");
    const parity = parityOf(done);
    expect(parity).toMatchObject({ precision: "fp32", runtime: "onnxruntime", passed: true, fixedBatch: { tolerance: 1e-4 } });
    expect(parity.fixedBatch.maxDifference).toBeLessThan(1e-4);
    expect(parity.validation!.agreement.top1Agreement).toBe(1);
    expect(Math.abs(parity.validation!.metrics.top1_acc.change)).toBeLessThan(1e-9);
    expect((await weightsDownload(member, done.id)).bytes).toBe(done.bytes);
  });

  it("fp16 works, and its report shows a small, non-zero difference", async () => {
    const done = await waitForExport(member, (await exportWeights(member, { weightsId: classifier.entry.id, format: "onnx", half: true }, { boss })).id, WAIT);
    expect(done.status, done.error ?? "").toBe("ready");
    const parity = parityOf(done);
    expect(parity.precision).toBe("fp16");
    expect(parity.fixedBatch.maxDifference).toBeGreaterThan(0);
    expect(parity.fixedBatch.maxDifference).toBeLessThan(1e-2);
  });

  it("a detector at opset 12 keeps its boxes (matched IoU ≈ 1, same classes)", async () => {
    const done = await waitForExport(member, (await exportWeights(member, { weightsId: detector.entry.id, format: "onnx", opset: 12 }, { boss })).id, WAIT);
    expect(done.status, done.error ?? "").toBe("ready");
    const parity = parityOf(done);
    expect(parity.fixedBatch.maxDifference).toBeLessThan(1e-4);
    const agreement = parity.validation!.agreement;
    if (agreement.matchedBoxes) {
      expect(agreement.meanIou).toBeGreaterThan(0.999);
      expect(agreement.classAgreement).toBe(1);
    }
  });

  it("pre-flight names the fields of combinations that cannot work and creates nothing", async () => {
    const before = (await tdb.db.select({ n: count() }).from(weights))[0].n;
    const fields = async (input: Parameters<typeof exportWeights>[1]) => Object.keys(((await exportWeights(member, input, { boss }).catch((e: unknown) => e)) as Invalid).fields ?? {});
    expect(await fields({ weightsId: classifier.entry.id, format: "torchscript" })).toEqual(["format"]);
    expect(await fields({ weightsId: classifier.entry.id, format: "tfjs", int8: true })).toEqual(["int8"]);
    expect(await fields({ weightsId: classifier.entry.id, opset: 11 })).toEqual(["opset"]);
    expect(await fields({ weightsId: classifier.entry.id, opset: 12, int8: true })).toEqual(["int8"]);
    expect(await fields({ weightsId: detector.entry.id, imgsz: 48 })).toEqual(["imgsz"]);
    expect((await tdb.db.select({ n: count() }).from(weights))[0].n).toBe(before);
    await expect(exportWeights(viewer, { weightsId: classifier.entry.id }, { boss })).rejects.toThrow(Forbidden);
    await expect(exportWeights(outsider, { weightsId: classifier.entry.id }, { boss })).rejects.toThrow(NotFound);
  });
});

describe("old clients", () => {
  it("seed 000 validate_model answers the document's fields after the job", async () => {
    const res = await validateModel(jsonRequest("POST", `/training/validate_model/default/${detector.experimentId}`, { imgsz: 64, batch: 4, conf: 0.001, iou: 0.6, device: "auto", save_json: true, plots: true }, bearer(key)), routeContext({ project_name: "default", task_id: String(detector.experimentId) }, { db: tdb.db, boss }));
    expect(res.status).toBe(200);
    const body = await res.json();
    expect(body.success).toBe(true);
    expect(Object.keys(body.data.metrics).sort()).toEqual(["class_metrics", "f1_score", "mAP50", "mAP50-95", "precision", "recall"].sort());
    expect(Object.keys(body.data.metrics.class_metrics)).toEqual(["red_square", "green_circle"]);
    expect(body.data.metrics.class_metrics.red_square).toHaveProperty("AP50");
    expect(body.data.results_path).toMatch(/^validations\/\d+$/);
    const missing = await validateModel(jsonRequest("POST", "/x", {}, bearer(key)), routeContext({ project_name: "default", task_id: "999999" }, { db: tdb.db, boss }));
    expect(missing.status).toBe(404);
  });

  it("seed 000 export_model answers {export_path, format, file_size_mb, description}; export_formats lists TorchScript as unavailable and asking for it is a 400", async () => {
    const res = await exportModel(jsonRequest("POST", "/x", { format: "onnx", half: false, int8: false, dynamic: false, simplify: true, opset: 12, batch: 1 }, bearer(key)), routeContext({ project_name: "default", task_id: String(classifier.experimentId) }, { db: tdb.db, boss }));
    const body = await res.json();
    expect(res.status, JSON.stringify(body)).toBe(200);
    expect(body.data).toMatchObject({ format: "onnx", description: "ONNX - 跨平台推理格式", export_path: expect.stringMatching(/^weights\/[0-9a-f]{64}\/weights\.onnx$/) });
    expect(body.data.file_size_mb).toBeGreaterThan(0);

    const formats = await (await exportFormats(getRequest("/training/export_formats", bearer(key)), { db: tdb.db })).json();
    expect(formats.formats.onnx).toMatchObject({ name: "ONNX", description: "跨平台推理格式，广泛支持", extension: ".onnx", recommended: true, available: true });
    expect(formats.formats.torchscript).toMatchObject({ name: "TorchScript", extension: ".torchscript", available: false });
    const torchscript = await exportModel(jsonRequest("POST", "/x", { format: "torchscript" }, bearer(key)), routeContext({ project_name: "default", task_id: String(classifier.experimentId) }, { db: tdb.db, boss }));
    expect(torchscript.status).toBe(400);
    expect((await torchscript.json()).error).toMatch(/supported formats: onnx, tfjs/);
  });

  it("seed 002 export answers the child entry {id, status}; another team's weights are a 404", async () => {
    const res = await exportV1Weights(jsonRequest("POST", "/x", { format: "tfjs" }, bearer(key)), routeContext({ id: String(classifier.entry.id) }, { db: tdb.db, boss }));
    expect(res.status).toBe(201);
    const body = await res.json();
    expect(body).toEqual({ id: expect.any(Number), status: "processing" });
    const done = await waitForExport(member, body.id, WAIT);
    expect(done.status, done.error ?? "").toBe("ready");
    expect(parityOf(done).fixedBatch.maxDifference).toBeLessThan(1e-4);
    const otherKey = (await createApiKey(outsider, { name: "other" })).key;
    const hidden = await exportV1Weights(jsonRequest("POST", "/x", { format: "onnx" }, bearer(otherKey)), routeContext({ id: String(classifier.entry.id) }, { db: tdb.db, boss }));
    expect(hidden.status).toBe(404);
  });
});
