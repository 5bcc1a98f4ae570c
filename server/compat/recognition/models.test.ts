import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { datasetItems, projects, validations, weights, type WeightsMetrics } from "@/db/schema";
import { bearer, createDialectWorld, getRequest, jsonRequest, type DialectWorld, routeContext } from "@/server/compat/shared/testing";
import { evaluateModel, getActiveModel, getMetrics, listMetrics, listModels, setActiveModel } from "./models";

let w: DialectWorld;
let signs: number;
let detector: number;
let unvalidated: number;
let theirs: number;

const deps = () => ({ db: w.tdb.db, boss: w.boss });

let shaCounter = 0;
async function entry(values: Partial<typeof weights.$inferInsert> & { name: string }) {
  const sha256 = String(++shaCounter).padStart(64, "0");
  const [row] = await w.tdb.db
    .insert(weights)
    .values({ projectId: w.defaultProjectId, format: "ckpt", file: `weights/${sha256}/weights.ckpt`, bytes: 10, sha256, ...values })
    .returning({ id: weights.id });
  return row.id;
}

const validated = (values: Record<string, number>, validatedAt: string): WeightsMetrics => ({ values, source: "validation", datasetId: null, split: "val", validatedAt });

beforeAll(async () => {
  w = await createDialectWorld();
  signs = await entry({
    name: "mobilenet_v2_tsr",
    task: "classify",
    model: "mobilenet_v2",
    classNames: ["a", "b"],
    imgsz: [224, 224],
    datasetId: w.datasetId,
    metrics: validated({ top1_acc: 0.92, precision: 0.94, recall: 0.91, macro_f1: 0.925, val_loss: 0.3 }, "2023-11-15T09:30:00.000Z"),
  });
  await w.tdb.db.insert(validations).values([
    { projectId: w.defaultProjectId, weightsId: signs, split: "val", task: "classify", params: { imgsz: 224, batch: 16, conf: 0.001, iou: 0.7, device: "auto", saveJson: false, plots: false, resplit: null }, status: "completed", speed: { preprocess: 2, inference: 45.04, postprocess: 0.1 }, finishedAt: new Date("2023-11-15T09:30:00Z") },
  ]);
  detector = await entry({ name: "yolov8n-signs", task: "detect", model: "yolov8n", format: "pt", classNames: ["stop"], imgsz: [640, 640], metrics: { ...validated({ precision: 0.8, recall: 0.7, f1: 0.75, mAP50: 0.78, mAP50_95: 0.55 }, "2024-01-02T00:00:00.000Z"), source: "training" } });
  unvalidated = await entry({ name: "fresh.onnx", format: "onnx", task: null });
  const [other] = await w.tdb.db.select({ id: projects.id }).from(projects).where(eq(projects.teamId, w.otherCtx.caller.teamId));
  theirs = await entry({ name: "theirs", projectId: other.id, task: "classify" });
  await w.tdb.db.insert(datasetItems).values([
    { datasetId: w.datasetId, path: "val/a/1.png", split: "val", bytes: 1, sha256: "x", width: 32, height: 32, label: 0 },
    { datasetId: w.datasetId, path: "val/b/1.png", split: "val", bytes: 1, sha256: "x", width: 32, height: 32, label: 1 },
  ]);
}, 60_000);

afterAll(async () => {
  await w?.close();
});

describe("seed 003 GET /models and /models/active", () => {
  it("lists the team's weights as models (string ids, type, classes, input size, active flag), not other teams'", async () => {
    const res = await listModels(getRequest("/models", bearer(w.key)), deps());
    expect(res.status).toBe(200);
    const models = await res.json();
    expect(models.map((m: { id: string }) => m.id).sort()).toEqual([String(signs), String(detector), String(unvalidated)].sort());
    expect(models.find((m: { id: string }) => m.id === String(signs))).toEqual({
      id: String(signs),
      name: "mobilenet_v2_tsr",
      type: "mobilenet",
      description: "",
      task: "classify",
      format: "ckpt",
      architecture: "mobilenet_v2",
      classes: ["a", "b"],
      num_classes: 2,
      input_size: [224, 224],
      status: "ready",
      is_active: false,
    });
    expect(models.find((m: { id: string }) => m.id === String(detector))).toMatchObject({ type: "yolo", classes: ["stop"], input_size: [640, 640] });
  });

  it("has no active model until one is set; keeps it per team; refuses another team's model", async () => {
    const none = await getActiveModel(getRequest("/models/active", bearer(w.key)), deps());
    expect(none.status).toBe(404);
    expect(await none.json()).toEqual({ detail: "No active model: choose one with POST /models/active {model_id}" });

    const set = await setActiveModel(jsonRequest("POST", "/models/active", { model_id: String(detector) }, bearer(w.key)), deps());
    expect(set.status).toBe(200);
    expect(await set.json()).toMatchObject({ id: String(detector), is_active: true, message: "活动模型已设置" });
    // By name, as the backend's own ids were names.
    await setActiveModel(jsonRequest("POST", "/models/active", { model_id: "mobilenet_v2_tsr" }, bearer(w.key)), deps());
    const active = await (await getActiveModel(getRequest("/models/active", bearer(w.key)), deps())).json();
    expect(active).toMatchObject({ id: String(signs), is_active: true });
    const flags = (await (await listModels(getRequest("/models", bearer(w.key)), deps())).json()).filter((m: { is_active: boolean }) => m.is_active);
    expect(flags.map((m: { id: string }) => m.id)).toEqual([String(signs)]);

    // The other team has none of its own, and cannot pick ours.
    expect((await getActiveModel(getRequest("/models/active", bearer(w.otherKey)), deps())).status).toBe(404);
    const foreign = await setActiveModel(jsonRequest("POST", "/models/active", { model_id: String(signs) }, bearer(w.otherKey)), deps());
    expect(foreign.status).toBe(404);
    await setActiveModel(jsonRequest("POST", "/models/active", { model_id: theirs }, bearer(w.otherKey)), deps());
    expect(await (await getActiveModel(getRequest("/models/active", bearer(w.otherKey)), deps())).json()).toMatchObject({ id: String(theirs) });
    expect(await (await getActiveModel(getRequest("/models/active", bearer(w.key)), deps())).json()).toMatchObject({ id: String(signs) });

    const missing = await setActiveModel(jsonRequest("POST", "/models/active", {}, bearer(w.key)), deps());
    expect(missing.status).toBe(400);
  });
});

describe("seed 003 /metrics", () => {
  it("answers the document's fields from the latest validation: figures, inference_time in ms and last_updated as a date", async () => {
    const res = await getMetrics(getRequest(`/metrics/${signs}`, bearer(w.key)), routeContext({ model_id: String(signs) }, deps()));
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ accuracy: 0.92, precision: 0.94, recall: 0.91, f1_score: 0.925, inference_time: 45, last_updated: "2023-11-15" });
  });

  it("gives null for what nothing measured, never a made-up figure", async () => {
    const all = await (await listMetrics(getRequest("/metrics", bearer(w.key)), deps())).json();
    expect(Object.keys(all).sort()).toEqual([String(signs), String(detector), String(unvalidated)].sort());
    expect(all[String(unvalidated)]).toEqual({ accuracy: null, precision: null, recall: null, f1_score: null, inference_time: null, last_updated: null });
    // A training-time validation measured no speed.
    expect(all[String(detector)]).toEqual({ accuracy: 0.55, precision: 0.8, recall: 0.7, f1_score: 0.75, inference_time: null, last_updated: "2024-01-02" });
    expect((await getMetrics(getRequest(`/metrics/${theirs}`, bearer(w.key)), routeContext({ model_id: String(theirs) }, deps()))).status).toBe(404);
  });

  it("POST /metrics/{id}/evaluate queues a validation job on the dataset the weights were trained on", async () => {
    const res = await evaluateModel(jsonRequest("POST", `/metrics/${signs}/evaluate`, {}, bearer(w.key)), routeContext({ model_id: String(signs) }, deps()));
    expect(res.status).toBe(200);
    const body = await res.json();
    expect(body).toEqual({ model_id: String(signs), evaluation_id: expect.any(String), status: "pending", dataset_id: w.datasetId, split: "val", message: "模型评估已启动" });
    const [row] = await w.tdb.db.select().from(validations).where(eq(validations.id, Number(body.evaluation_id)));
    expect(row).toMatchObject({ weightsId: signs, datasetId: w.datasetId, status: "queued", purpose: "validation" });
    const jobs = await w.boss.fetch("weights.validate", { batchSize: 10 });
    expect(jobs?.map((job) => job.data)).toContainEqual({ validationId: row.id });

    const noDataset = await evaluateModel(jsonRequest("POST", `/metrics/${detector}/evaluate`, {}, bearer(w.key)), routeContext({ model_id: String(detector) }, deps()));
    expect(noDataset.status).toBe(400);
    expect((await noDataset.json()).detail).toMatch(/name no dataset/);
  });
});
