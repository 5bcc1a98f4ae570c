import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { experiments, projects, weights } from "@/db/schema";
import { bearer, createDialectWorld, insertReadyDataset, jsonRequest, type DialectWorld } from "@/server/compat/shared/testing";
import { createV1Experiment } from "@/server/compat/studio-v1/experiments";
import { createTask } from "@/server/compat/training-module/handlers";
import { resetEnvCache } from "@/server/env";
import { Conflict, NotFound } from "@/server/errors";
import { createExperiment } from "@/server/experiments/lifecycle";
import { systemContext } from "@/server/context";
import { fineTuneWeightsFile } from "./fine-tune";

let w: DialectWorld;
let work: string;
let detectDataset: number;
let otherProjectId: number;

beforeAll(async () => {
  work = await mkdtemp(path.join(os.tmpdir(), "fine-tune-"));
  process.env.STUDIO_DATA_DIR = work;
  resetEnvCache();
  w = await createDialectWorld();
  detectDataset = await insertReadyDataset(w.tdb, w.defaultProjectId, "boxes", "detect");
  [{ id: otherProjectId }] = await w.tdb.db.select({ id: projects.id }).from(projects).where(eq(projects.teamId, w.otherCtx.caller.teamId));
}, 60_000);

afterAll(async () => {
  await w?.close();
  await rm(work, { recursive: true, force: true });
});

const deps = () => ({ db: w.tdb.db, boss: w.boss });

/** A library row as an import leaves it (the tests that need no file never read it). */
async function entry(values: Partial<typeof weights.$inferInsert> & { name: string; format: "pt" | "ckpt" | "onnx" | "tfjs" }) {
  const sha256 = `${"0".repeat(56)}${String(Math.floor(Math.random() * 1e8)).padStart(8, "0")}`;
  const [row] = await w.tdb.db
    .insert(weights)
    .values({ projectId: w.defaultProjectId, file: `weights/${sha256}/weights.${values.format}`, bytes: 10, sha256, ...values })
    .returning({ id: weights.id });
  return row.id;
}

const create = (model: string, weightsId: number, datasetId = w.datasetId) =>
  createExperiment(w.ctx, { projectId: w.defaultProjectId, name: `ft-${model}-${weightsId}-${datasetId}-${Math.random()}`, datasetId, model, hyperparameters: { weights: weightsId } }, deps());

describe("an experiment that starts from weights", () => {
  it("keeps the entry as hyperparameters.weights when it fits", async () => {
    const id = await entry({ name: "mobilenet-imagenet.pt", format: "pt", task: null, model: "mobilenet_v2" });
    const experiment = await create("mobilenet_v2", id);
    expect(experiment.hyperparameters.weights).toBe(id);
  });

  it("is refused for another team's weights, as if they did not exist", async () => {
    const id = await entry({ name: "theirs.pt", format: "pt", model: "resnet18", projectId: otherProjectId });
    await expect(create("resnet18", id)).rejects.toThrow(NotFound);
    await expect(create("resnet18", id)).rejects.toThrow(`Weights ${id} not found`);
  });

  it("is refused for weights of another task, another model, ONNX, or not ready", async () => {
    const detector = await entry({ name: "yolov8n.pt", format: "pt", task: "detect", model: "yolov8n" });
    await expect(create("resnet18", detector)).rejects.toThrow("Weights yolov8n.pt are for detect, the dataset is classify");
    await expect(create("yolov8s", detector, detectDataset)).rejects.toThrow("Weights yolov8n.pt are for yolov8n; the experiment trains yolov8s");
    await expect(create("yolov8n", detector, detectDataset)).resolves.toMatchObject({ hyperparameters: { weights: detector } });
    const exported = await entry({ name: "export.onnx", format: "onnx", task: "classify" });
    await expect(create("resnet18", exported)).rejects.toThrow(/ONNX file, which training cannot start from/);
    const plain = await entry({ name: "plain.pt", format: "pt", task: "classify" });
    await expect(create("reference-cnn", plain)).rejects.toThrow("PyTorch weights load onto resnet18, resnet34, mobilenet_v2 or yolov8n–x; the experiment trains reference-cnn");
    const writing = await entry({ name: "writing.ckpt", format: "ckpt", status: "processing" });
    await expect(create("reference-cnn", writing)).rejects.toThrow(Conflict);
  });

  it("gives the run the entry's file, and only for the entry's team", async () => {
    const id = await entry({ name: "file.ckpt", format: "ckpt", task: "classify" });
    const [row] = await w.tdb.db.select({ file: weights.file }).from(weights).where(eq(weights.id, id));
    const run = (teamId: number) => systemContext(w.tdb.db, teamId, { purpose: "training run", onBehalfOf: null });
    expect(await fineTuneWeightsFile(run(w.teamId), id)).toBe(path.join(work, row.file));
    await expect(fineTuneWeightsFile(run(w.otherCtx.caller.teamId), id)).rejects.toThrow(`The weights ${id} this experiment starts from were deleted`);
  });
});

describe("fine-tuning through the old dialects", () => {
  it("seed 002 POST /api/v1/experiments takes weights_id or hyperparams.weights", async () => {
    const id = await entry({ name: "r18.pt", format: "pt", model: "resnet18" });
    for (const [name, extra] of [["by-id", { weights_id: id }], ["by-hyperparams", { hyperparams: { epochs: 2, weights: String(id) } }]] as const) {
      const res = await createV1Experiment(jsonRequest("POST", "/api/v1/experiments", { name, dataset_id: w.datasetId, model_arch_id: "resnet18", ...extra }, bearer(w.key)), deps());
      expect(res.status).toBe(201);
      const [row] = await w.tdb.db.select().from(experiments).where(eq(experiments.id, Number((await res.json()).id)));
      expect(row.hyperparameters.weights).toBe(id);
    }
    const theirs = await entry({ name: "their-r18.pt", format: "pt", model: "resnet18", projectId: otherProjectId });
    const refused = await createV1Experiment(jsonRequest("POST", "/api/v1/experiments", { name: "theirs", dataset_id: w.datasetId, model_arch_id: "resnet18", weights_id: theirs }, bearer(w.key)), deps());
    expect(refused.status).toBe(404);
  });

  it("seed 000 create_task takes model_type weights:<id> or an entry's name, training the entry's model", async () => {
    const id = await entry({ name: "signs-mobilenet", format: "pt", model: "mobilenet_v2" });
    for (const [taskName, modelType] of [["from-id", `weights:${id}`], ["from-name", "signs-mobilenet"], ["from-prefixed-name", "weights:signs-mobilenet"]]) {
      const res = await createTask(jsonRequest("POST", "/training/create_task", { project_name: "default", task_name: taskName, model_type: modelType, dataset_id: w.datasetId }, bearer(w.key)), deps());
      const body = await res.json();
      expect(body).toEqual({ success: true, task_id: expect.any(Number) });
      const [row] = await w.tdb.db.select().from(experiments).where(eq(experiments.id, body.task_id));
      expect(row).toMatchObject({ model: "mobilenet_v2", hyperparameters: { weights: id } });
    }
    const missing = await createTask(jsonRequest("POST", "/training/create_task", { project_name: "default", task_name: "none", model_type: "weights:999999", dataset_id: w.datasetId }, bearer(w.key)), deps());
    expect(missing.status).toBe(404);
    expect(await missing.json()).toEqual({ success: false, error: "Weights 999999 not found" });
  });
});
