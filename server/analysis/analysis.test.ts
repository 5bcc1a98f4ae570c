import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { validationOutcomes, validationPredictions, validations, weights, type ImagePrediction, type ImageTruth } from "@/db/schema";
import { seedMemberAndOutsider } from "@/db/testing/fixtures";
import { createTestDb, type TestDb } from "@/db/testing/test-db";
import type { Ctx } from "@/server/context";
import { Conflict, Invalid, NotFound } from "@/server/errors";
import { DetectionMetrics } from "@/server/ml/metrics/detect";
import { defaultProject } from "@/server/projects/service";
import { diffImages, diffModels } from "./diff";
import { referenceBootstrapInterval, referenceJudgedBoxes, referenceWeightedMap50 } from "./bootstrap-reference";
import { diffMetric } from "./diff-metric";
import { cellImages, confusionMatrix, listPredictions } from "./predictions";
import { A_CONFUSION, A_COUNTS, insertRun, insertValDataset, insertValidation, MODEL_A, MODEL_B, recordValidation, TRUTH } from "./testing";

let tdb: TestDb;
let member: Ctx;
let outsider: Ctx;
let projectId: number;
let detectData: number;
let runA: number;
let runB: number;
let weightsB: number;
let validationA: number;

const dataset = (name: string, task: "detect" | "classify", truth: Record<string, ImageTruth>) => insertValDataset(tdb.db, projectId, name, task, truth);
const run = (name: string, datasetId: number, task: "detect" | "classify") => insertRun(tdb.db, projectId, name, datasetId, task);
const validated = (target: { experimentId?: number; weightsId?: number }, datasetId: number, task: "detect" | "classify", predictions: Record<string, ImagePrediction>, truth: Record<string, ImageTruth>) =>
  insertValidation(tdb.db, projectId, target, datasetId, task, predictions, truth);

const countsOf = (items: Awaited<ReturnType<typeof listPredictions>>["items"]) =>
  Object.fromEntries(items.map((i) => [i.path, [i.boxes.filter((b) => b.outcome === "tp").length, i.boxes.filter((b) => b.outcome === "fp").length, i.truths.filter((t) => !t.found).length]]));
const paths = (items: { path: string }[]) => items.map((i) => i.path);

beforeAll(async () => {
  tdb = await createTestDb();
  ({ member, outsider } = await seedMemberAndOutsider(tdb.db));
  projectId = (await defaultProject(member)).id;
  detectData = await dataset("boxes", "detect", TRUTH);
  runA = await run("a", detectData, "detect");
  runB = await run("b", detectData, "detect");
  validationA = await validated({ experimentId: runA }, detectData, "detect", MODEL_A, TRUTH);
  await validated({ experimentId: runB }, detectData, "detect", MODEL_B, TRUTH);
  const [entry] = await tdb.db.insert(weights).values({ projectId, name: "b-weights", format: "onnx", file: "x/y.onnx", bytes: 1, sha256: "1".repeat(64) }).returning();
  weightsB = entry.id;
  await validated({ weightsId: weightsB }, detectData, "detect", MODEL_B, TRUTH);
}, 120_000);

afterAll(async () => {
  await tdb?.close();
});

describe("per-image results of a detection validation", () => {
  it("judges every image's boxes at the asked confidence: TP with its labelled box and IoU, FP, and missed labelled boxes", async () => {
    for (const conf of [0.25, 0.5] as const) {
      const page = await listPredictions(member, { validationId: validationA, conf, pageSize: 50 });
      expect(page.total).toBe(6);
      expect(countsOf(page.items)).toEqual(A_COUNTS[conf]);
    }
    const [a] = (await listPredictions(member, { validationId: validationA, pageSize: 1 })).items;
    expect(a.path).toBe("val/a.png");
    expect(a.boxes[0]).toMatchObject({ cls: 0, confidence: expect.closeTo(0.9, 6), outcome: "tp", iou: expect.closeTo((38 * 38) / (40 * 40), 4), matchedBox: [10, 10, 50, 50] });
    expect(a.boxes.find((b) => b.outcome === "fp")).toMatchObject({ cls: 0, iou: null, matchedBox: null });
  });

  it("finds the images by class and outcome, paged by path", async () => {
    const query = (q: { cls?: number; outcome?: "tp" | "fp" | "fn"; conf?: number }) => listPredictions(member, { validationId: validationA, pageSize: 50, ...q }).then((p) => paths(p.items));
    expect(await query({ outcome: "fp", cls: 0 })).toEqual(["val/a.png", "val/b.png", "val/d.png"]);
    expect(await query({ outcome: "fn" })).toEqual(["val/b.png", "val/e.png"]);
    expect(await query({ outcome: "fn", conf: 0.05 })).toEqual(["val/b.png"]);
    expect(await query({ outcome: "tp", cls: 1 })).toEqual(["val/a.png"]);
    expect(await query({ cls: 1 })).toEqual(["val/a.png", "val/b.png", "val/e.png"]);
    const second = await listPredictions(member, { validationId: validationA, outcome: "fp", page: 2, pageSize: 2 });
    expect({ total: second.total, paths: paths(second.items) }).toEqual({ total: 3, paths: ["val/d.png"] });
    await expect(listPredictions(member, { validationId: validationA, cls: 2 })).rejects.toThrow(Invalid);
  });

  it("adds up to Ultralytics' confusion matrix, and a cell (background included) opens exactly its images", async () => {
    const { labels, matrix } = await confusionMatrix(member, validationA);
    expect(labels).toEqual(["cat", "dog", "background"]);
    expect(matrix).toEqual(A_CONFUSION);
    const cell = (predicted: number, actual: number) => cellImages(member, { validationId: validationA, predicted, actual }).then((p) => paths(p.items).sort());
    expect(await cell(2, 1)).toEqual(["val/e.png"]);
    expect(await cell(0, 2)).toEqual(["val/a.png", "val/d.png"]);
    expect(await cell(0, 1)).toEqual(["val/b.png"]);
    expect(await cell(1, 0)).toEqual([]);
  });

  it("derives the rows of a validation recorded before they existed", async () => {
    const before = await listPredictions(member, { validationId: validationA, pageSize: 50 });
    await tdb.db.delete(validationOutcomes).where(eq(validationOutcomes.validationId, validationA));
    await tdb.db.update(validations).set({ outcomesRecorded: false }).where(eq(validations.id, validationA));
    const after = await listPredictions(member, { validationId: validationA, pageSize: 50 });
    expect(after.items).toEqual(before.items);
    expect((await tdb.db.select().from(validations).where(eq(validations.id, validationA)))[0].outcomesRecorded).toBe(true);
  });

  it("shows another team nothing", async () => {
    await expect(listPredictions(outsider, { validationId: validationA })).rejects.toThrow(NotFound);
    await expect(confusionMatrix(outsider, validationA)).rejects.toThrow(NotFound);
    await expect(diffModels(outsider, { a: String(runA), b: String(runB) })).rejects.toThrow(NotFound);
  });
});

describe("diff of two models on the same split", () => {
  it("puts each image in its bucket at the chosen confidence, overall and per class", async () => {
    const diff = await diffModels(member, { a: String(runA), b: String(runB), conf: 0.25 });
    expect(diff.counts).toEqual({ regressions: 1, fixes: 3, both_wrong: 1, both_right: 1 });
    expect(paths(diff.buckets.regressions)).toEqual(["val/c.png"]);
    expect(paths(diff.buckets.fixes)).toEqual(["val/a.png", "val/b.png", "val/e.png"]);
    expect(paths(diff.buckets.both_wrong)).toEqual(["val/d.png"]);
    expect(diff.buckets.regressions[0]).toMatchObject({ a: { tp: 0, fp: 0, fn: 0, right: true }, b: { tp: 0, fp: 1, fn: 0, right: false } });
    expect(diff.perClass).toEqual([
      { cls: 0, name: "cat", regressions: 1, fixes: 2, both_wrong: 1, both_right: 1 },
      { cls: 1, name: "dog", regressions: 0, fixes: 2, both_wrong: 0, both_right: 1 },
    ]);
    const dogFixes = await diffImages(member, { a: String(runA), b: String(runB), bucket: "fixes", cls: 1 });
    expect(paths(dogFixes.items)).toEqual(["val/b.png", "val/e.png"]);
  });

  it("takes a weights entry where a run is taken (w<id>)", async () => {
    const diff = await diffModels(member, { a: String(runA), b: `w${weightsB}` });
    expect(diff.b).toMatchObject({ ref: `w${weightsB}`, name: "b-weights" });
    expect(diff.counts.regressions).toBe(1);
  });

  it("gives mAP50 of both on the paired images and a bootstrap interval that is the same on every call", async () => {
    const metric = await diffMetric(member, { a: String(runA), b: String(runB), seed: 7, resamples: 400 });
    const expected = (predictions: Record<string, ImagePrediction>) => {
      const m = new DetectionMetrics(2);
      for (const path of Object.keys(TRUTH).sort()) m.add(predictions[path].boxes!, TRUTH[path].boxes!);
      return m.compute().mAP50;
    };
    expect(metric).toMatchObject({ name: "mAP50", a: expect.closeTo(expected(MODEL_A), 10), b: expect.closeTo(expected(MODEL_B), 10), images: 6, seed: 7, resamples: 400 });
    expect(metric.delta).toBeCloseTo(metric.b - metric.a, 12);
    expect(metric.ci95[0]).toBeLessThanOrEqual(metric.ci95[1]);
    expect(await diffMetric(member, { a: String(runA), b: String(runB), seed: 7, resamples: 400 })).toEqual(metric);
  });

  it("gives, to the bit, what the plain computation gives on the rows read one by one", async () => {
    const plainJudged = async (validationId: number, paths: string[]) => {
      const images = await tdb.db.select().from(validationPredictions).where(eq(validationPredictions.validationId, validationId));
      const index = new Map(images.map((image) => [image.id, paths.indexOf(image.path)]));
      const rows = await tdb.db.select().from(validationOutcomes).where(eq(validationOutcomes.validationId, validationId));
      const boxes = rows.filter((r) => r.kind === "box").map((r) => ({ image: index.get(r.predictionId)!, cls: r.cls, score: r.confidence ?? 0, hit: r.matched }));
      return referenceJudgedBoxes(2, paths.length, boxes, rows.filter((r) => r.kind === "truth").map((r) => ({ image: index.get(r.predictionId)!, cls: r.cls })));
    };
    const paths = Object.keys(TRUTH).sort();
    const [validationB] = await tdb.db.select().from(validations).where(eq(validations.experimentId, runB));
    const [ja, jb] = [await plainJudged(validationA, paths), await plainJudged(validationB.id, paths)];
    const opts = { resamples: 300, seed: 11 };
    const plain = referenceBootstrapInterval(paths.length, (w) => referenceWeightedMap50(jb, w) - referenceWeightedMap50(ja, w), opts);
    const metric = await diffMetric(member, { a: String(runA), b: String(runB), ...opts });
    expect(metric.a).toBe(referenceWeightedMap50(ja));
    expect(metric.b).toBe(referenceWeightedMap50(jb));
    expect(metric.ci95[0]).toBe(plain[0]);
    expect(metric.ci95[1]).toBe(plain[1]);
  });

  it("answers a repeated metric from its cache only after checking the caller may read both models", async () => {
    const asked = { a: String(runA), b: String(runB), seed: 3, resamples: 200 };
    const metric = await diffMetric(member, asked);
    await expect(diffMetric(outsider, asked)).rejects.toThrow(NotFound);
    expect(await diffMetric(member, asked)).toEqual(metric);
  });

  it("computes the metric again when a validation is recorded again under the same id", async () => {
    const rerun = await run("rerun", detectData, "detect");
    const validationId = await validated({ experimentId: rerun }, detectData, "detect", MODEL_A, TRUTH);
    const asked = { a: String(rerun), b: String(runB), seed: 3, resamples: 200 };
    const before = await diffMetric(member, asked);
    expect(before.delta).not.toBe(0);
    await recordValidation(tdb.db, validationId, MODEL_B, TRUTH);
    expect(await diffMetric(member, asked)).toMatchObject({ a: before.b, b: before.b, delta: 0, ci95: [0, 0] });
  });

  it("refuses models without a validation on the split, and models validated on other images", async () => {
    const fresh = await run("fresh", detectData, "detect");
    await expect(diffModels(member, { a: String(runA), b: String(fresh) })).rejects.toThrow(Conflict);
    await expect(diffModels(member, { a: String(runA), b: String(runB), split: "test" })).rejects.toThrow(Conflict);
    const other = await dataset("other boxes", "detect", TRUTH);
    const elsewhere = await run("elsewhere", other, "detect");
    await validated({ experimentId: elsewhere }, other, "detect", MODEL_B, TRUTH);
    await expect(diffModels(member, { a: String(runA), b: String(elsewhere) })).rejects.toThrow(/different datasets/);
  });
});

describe("classification", () => {
  const truth: Record<string, ImageTruth> = { "val/1.png": { label: 0 }, "val/2.png": { label: 0 }, "val/3.png": { label: 1 }, "val/4.png": { label: 1 } };
  const top = (first: number, score: number) => ({ top: [{ cls: first, score }, { cls: 1 - first, score: 1 - score }] });
  let a: number;
  let b: number;

  beforeAll(async () => {
    const data = await dataset("pets", "classify", truth);
    a = await run("cls-a", data, "classify");
    b = await run("cls-b", data, "classify");
    // A: right on 1, 3; wrong on 2 (says dog), 4 (says cat). B: right on 1, 2, 3; wrong on 4.
    await validated({ experimentId: a }, data, "classify", { "val/1.png": top(0, 0.9), "val/2.png": top(1, 0.6), "val/3.png": top(1, 0.8), "val/4.png": top(0, 0.7) }, truth);
    await validated({ experimentId: b }, data, "classify", { "val/1.png": top(0, 0.9), "val/2.png": top(0, 0.6), "val/3.png": top(1, 0.8), "val/4.png": top(0, 0.9) }, truth);
  });

  it("keeps the true label and the top-k, and finds the images a class is mistaken for", async () => {
    const validationId = (await tdb.db.select().from(validations).where(eq(validations.experimentId, a)))[0].id;
    const query = (q: { cls?: number; outcome?: "tp" | "fp" | "fn" }) => listPredictions(member, { validationId, ...q }).then((p) => paths(p.items));
    expect(await query({ outcome: "fn", cls: 0 })).toEqual(["val/2.png"]);
    expect(await query({ outcome: "fp", cls: 0 })).toEqual(["val/4.png"]);
    expect(await query({ outcome: "tp" })).toEqual(["val/1.png", "val/3.png"]);
    const [image] = (await listPredictions(member, { validationId, outcome: "fp", cls: 0 })).items;
    expect(image).toMatchObject({ label: 1, correct: false, top: [{ cls: 0, score: 0.7 }, { cls: 1, score: expect.closeTo(0.3, 6) }] });
    const { matrix } = await confusionMatrix(member, validationId);
    expect(matrix).toEqual([
      [1, 1],
      [1, 1],
    ]);
    expect(paths((await cellImages(member, { validationId, predicted: 1, actual: 0 })).items)).toEqual(["val/2.png"]);
  });

  it("diffs top-1 per image and per true class, with the accuracy change", async () => {
    const diff = await diffModels(member, { a: String(a), b: String(b) });
    expect(diff.counts).toEqual({ regressions: 0, fixes: 1, both_wrong: 1, both_right: 2 });
    expect(paths(diff.buckets.fixes)).toEqual(["val/2.png"]);
    expect(diff.perClass.map((c) => [c.name, c.fixes, c.both_wrong])).toEqual([
      ["cat", 1, 0],
      ["dog", 0, 1],
    ]);
    const metric = await diffMetric(member, { a: String(a), b: String(b) });
    expect(metric).toMatchObject({ name: "top1_acc", a: 0.5, b: 0.75, delta: 0.25, seed: 0, resamples: 1000 });
    expect(metric.ci95[0]).toBeGreaterThanOrEqual(0);
    expect(metric.ci95[1]).toBeLessThanOrEqual(0.75);
  });
});
