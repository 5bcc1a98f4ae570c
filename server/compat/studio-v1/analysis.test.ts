import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { weights, type ImageTruth } from "@/db/schema";
import { CLASSES, insertRun, insertValDataset, insertValidation, MODEL_A, MODEL_B, TRUTH } from "@/server/analysis/testing";
import { bearer, createDialectWorld, getRequest, routeContext, type DialectWorld } from "@/server/compat/shared/testing";
import { getV1Diff, getV1Predictions } from "./analysis";

let w: DialectWorld;
let runA: number;
let runB: number;
let weightsB: number;
let classifier: number;

const predictions = async (id: string, query = "", key = w.key) => {
  const res = await getV1Predictions(getRequest(`/api/v1/experiments/${id}/predictions${query}`, bearer(key)), routeContext({ id }, { db: w.tdb.db }));
  return { status: res.status, body: await res.json() };
};
const diff = async (a: string, b: string, query = "", key = w.key) => {
  const res = await getV1Diff(getRequest(`/api/v1/experiments/${a}/diff/${b}${query}`, bearer(key)), routeContext({ id: a, b }, { db: w.tdb.db }));
  return { status: res.status, body: await res.json() };
};

beforeAll(async () => {
  w = await createDialectWorld();
  const projectId = w.defaultProjectId;
  const boxes = await insertValDataset(w.tdb.db, projectId, "boxes", "detect", TRUTH);
  runA = await insertRun(w.tdb.db, projectId, "a", boxes, "detect");
  runB = await insertRun(w.tdb.db, projectId, "b", boxes, "detect");
  await insertValidation(w.tdb.db, projectId, { experimentId: runA }, boxes, "detect", MODEL_A, TRUTH);
  await insertValidation(w.tdb.db, projectId, { experimentId: runB }, boxes, "detect", MODEL_B, TRUTH);
  const [entry] = await w.tdb.db.insert(weights).values({ projectId, name: "b-weights", format: "onnx", file: "x/y.onnx", bytes: 1, sha256: "2".repeat(64) }).returning();
  weightsB = entry.id;
  await insertValidation(w.tdb.db, projectId, { weightsId: weightsB }, boxes, "detect", MODEL_B, TRUTH);
  const truth: Record<string, ImageTruth> = { "val/1.png": { label: 0 }, "val/2.png": { label: 1 } };
  const pets = await insertValDataset(w.tdb.db, projectId, "pets", "classify", truth);
  classifier = await insertRun(w.tdb.db, projectId, "pets", pets, "classify");
  await insertValidation(w.tdb.db, projectId, { experimentId: classifier }, pets, "classify", { "val/1.png": { top: [{ cls: 1, score: 0.7 }, { cls: 0, score: 0.3 }] }, "val/2.png": { top: [{ cls: 1, score: 0.9 }, { cls: 0, score: 0.1 }] } }, truth);
}, 120_000);

afterAll(async () => {
  await w?.close();
});

describe("GET /api/v1/experiments/{id}/predictions", () => {
  it("answers detection items as {image, boxes: [{name, confidence, box, outcome, iou}], missed}", async () => {
    const { status, body } = await predictions(String(runA), "?outcome=fn&page_size=1");
    expect(status).toBe(200);
    expect(body).toMatchObject({ id: String(runA), task: "detect", split: "val", classes: CLASSES, conf: 0.25, outcome: "fn", class: null, page: 1, page_size: 1, total: 2 });
    expect(body.items).toEqual([
      {
        image: "val/b.png",
        boxes: [{ name: "cat", confidence: 0.8, box: [20, 20, 60, 60], outcome: "fp", iou: null, gt_box: null }],
        missed: [{ name: "dog", box: [20, 20, 60, 60] }],
      },
    ]);
    const one = await predictions(String(runA), "?image=val/e.png&conf=0.05");
    expect(one.body).toMatchObject({ total: 1, items: [{ image: "val/e.png", boxes: [{ name: "dog", outcome: "tp" }], missed: [] }] });
    const tp = await predictions(String(runA), "?class=cat&outcome=tp&conf=0.5");
    expect(tp.body.items.map((i: { image: string }) => i.image)).toEqual(["val/a.png", "val/d.png", "val/f.png"]);
    expect(tp.body.items[0].boxes[0]).toEqual({ name: "cat", confidence: 0.9, box: [12, 12, 50, 50], outcome: "tp", iou: 0.9025, gt_box: [10, 10, 50, 50] });
  });

  it("answers classification items as {image, true, pred, confidence, top_k}", async () => {
    const { status, body } = await predictions(String(classifier), "?outcome=fp&class=dog");
    expect(status).toBe(200);
    expect(body.items).toEqual([
      {
        image: "val/1.png",
        true: "cat",
        pred: "dog",
        confidence: 0.7,
        top_k: [
          { name: "dog", confidence: 0.7 },
          { name: "cat", confidence: 0.3 },
        ],
      },
    ]);
  });

  it("takes a weights entry as w<id>", async () => {
    const { status, body } = await predictions(`w${weightsB}`, "?outcome=fp");
    expect(status).toBe(200);
    expect(body).toMatchObject({ id: `w${weightsB}`, name: "b-weights", total: 2 });
  });

  it("refuses bad parameters with 400 naming the field, unknown ids with 404, and runs without a validation with 422", async () => {
    expect(await predictions(String(runA), "?outcome=maybe")).toMatchObject({ status: 400, body: { errors: { outcome: [expect.any(String)] } } });
    expect(await predictions(String(runA), "?class=horse")).toMatchObject({ status: 400, body: { errors: { class: ["unknown class"] } } });
    expect(await predictions(String(runA), "?conf=2")).toMatchObject({ status: 400, body: { errors: { conf: [expect.any(String)] } } });
    expect(await predictions(String(runA), "?split=train")).toMatchObject({ status: 400, body: { errors: { split: [expect.any(String)] } } });
    expect((await predictions("x12")).status).toBe(404);
    expect((await predictions(String(runA), "", w.otherKey)).status).toBe(404);
    const fresh = await insertRun(w.tdb.db, w.defaultProjectId, "fresh", w.datasetId, "classify");
    expect(await predictions(String(fresh))).toMatchObject({ status: 422, body: { detail: expect.stringContaining("no completed validation") } });
  });
});

describe("GET /api/v1/experiments/{a}/diff/{b}", () => {
  it("answers {regressions, fixes, both_wrong, metric: {name, a, b, delta, ci95}} with the images of each bucket", async () => {
    const { status, body } = await diff(String(runA), String(runB), "?conf=0.25&seed=3");
    expect(status).toBe(200);
    expect(body).toMatchObject({
      a: { id: String(runA), name: "a" },
      b: { id: String(runB), name: "b" },
      task: "detect",
      split: "val",
      conf: 0.25,
      images: 6,
      unpaired: 0,
      regressions: ["val/c.png"],
      fixes: ["val/a.png", "val/b.png", "val/e.png"],
      both_wrong: ["val/d.png"],
      counts: { regressions: 1, fixes: 3, both_wrong: 1, both_right: 1 },
      per_class: { cat: { regressions: 1, fixes: 2, both_wrong: 1, both_right: 1 }, dog: { regressions: 0, fixes: 2, both_wrong: 0, both_right: 1 } },
      metric: { name: "mAP50", seed: 3, resamples: 1000 },
    });
    const { metric } = body;
    expect(metric.delta).toBeCloseTo(metric.b - metric.a, 12);
    expect(metric.ci95).toHaveLength(2);
    expect((await diff(String(runA), String(runB), "?conf=0.25&seed=3")).body.metric).toEqual(metric);
  });

  it("diffs a run against a weights entry, and refuses what cannot be diffed", async () => {
    expect((await diff(String(runA), `w${weightsB}`)).body.counts).toEqual({ regressions: 1, fixes: 3, both_wrong: 1, both_right: 1 });
    expect(await diff(String(runA), String(classifier))).toMatchObject({ status: 400, body: { errors: { b: [expect.any(String)] } } });
    expect(await diff(String(runA), String(runB), "?resamples=5")).toMatchObject({ status: 400, body: { errors: { resamples: [expect.any(String)] } } });
    expect((await diff(String(runA), String(runB), "", w.otherKey)).status).toBe(404);
    expect((await diff(String(runA), "w0")).status).toBe(404);
  });
});
