import { createHash } from "node:crypto";
import { copyFile, mkdir, mkdtemp, readFile, rm, stat } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { experiments } from "@/db/schema";
import { seedUser } from "@/db/testing/fixtures";
import { createApiKey } from "@/server/auth/api-keys";
import { loadCaller } from "@/server/auth/callers";
import { resetEnvCache } from "@/server/env";
import { weightsFilePath } from "@/server/weights/storage";
import { ioFixture, uploadRequest, writeTinyCheckpoint } from "@/server/weights/testing";
import { deleteV1Weights, downloadV1Weights, getV1Weights, importV1Weights, listV1Weights, saveV1ExperimentWeights, updateV1Weights } from "./weights";
import { bearer, createDialectWorld, getRequest, jsonRequest, type DialectWorld, routeContext } from "@/server/compat/shared/testing";

let w: DialectWorld;
let work: string;
let importRoot: string;
let viewerKey: string;
let onnx: Buffer;

const deps = () => ({ db: w.tdb.db });
const sha256 = (bytes: Uint8Array) => createHash("sha256").update(bytes).digest("hex");
const request = (method: string, url: string, key: string, headers: Record<string, string> = {}) => new Request(`http://studio.test${url}`, { method, headers: { ...bearer(key), ...headers } });
const uploadOnnx = async (key: string, fields: Record<string, string> = {}) => {
  const res = await importV1Weights(uploadRequest("http://studio.test/api/v1/models/weights", { bytes: onnx, filename: "detector.onnx" }, fields, bearer(key)), deps());
  return { res, body: await res.json() };
};

/** The fields every entry carries: the document's (file size, mAP, architecture) and the studio's. */
const ENTRY_FIELDS = [
  "accuracy", "architecture", "architecture_id", "classes", "created_at", "dataset_id", "description", "download_url", "epoch", "experiment_id", "file_size",
  "file_size_mb", "format", "id", "imgsz", "input_shape", "mAP", "mAP50", "metrics", "name", "num_classes", "parent_id", "project_id", "sha256", "status",
  "tags", "task", "updated_at",
];

beforeAll(async () => {
  work = await mkdtemp(path.join(os.tmpdir(), "v1-weights-"));
  importRoot = path.join(work, "imports");
  await mkdir(importRoot, { recursive: true });
  process.env.STUDIO_DATA_DIR = path.join(work, "data");
  process.env.STUDIO_IMPORT_ROOTS = importRoot;
  resetEnvCache();
  w = await createDialectWorld();
  const viewer = await seedUser(w.tdb.db, { email: "viewer@x.io", teams: [{ teamId: w.teamId, role: "viewer" }] });
  viewerKey = (await createApiKey({ db: w.tdb.db, caller: (await loadCaller(w.tdb.db, viewer.id, w.teamId, "api_key"))! }, { name: "viewer" })).key;
  onnx = await readFile(ioFixture("ultralytics_like.onnx"));
}, 60_000);

afterAll(async () => {
  await w?.close();
  await rm(work, { recursive: true, force: true });
});

describe("seed 002 §2.4.B /api/v1/models/weights", () => {
  it("POST multipart → 201 with the entry; GET lists it with file size, mAP and architecture", async () => {
    const { res, body } = await uploadOnnx(w.key, { tags: '["best","deploy"]', model: "yolov8n" });
    expect(res.status).toBe(201);
    expect(Object.keys(body).sort()).toEqual(ENTRY_FIELDS);
    expect(body).toMatchObject({
      name: "detector",
      format: "onnx",
      task: "detect",
      status: "ready",
      file_size: onnx.length,
      sha256: sha256(onnx),
      mAP: null,
      architecture: "yolov8n",
      classes: ["person", "bicycle's wheel"],
      num_classes: 2,
      imgsz: [64, 64],
      input_shape: [1, 3, 64, 64],
      tags: ["best", "deploy"],
      project_id: w.defaultProjectId,
      download_url: `/api/v1/models/weights/${body.id}/download`,
      created_at: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/),
    });

    const list = await listV1Weights(getRequest("/api/v1/models/weights", bearer(w.key)), deps());
    expect(list.status).toBe(200);
    const entries = await list.json();
    expect(entries).toEqual([body]);
    const filtered = await listV1Weights(getRequest("/api/v1/models/weights?format=pt", bearer(w.key)), deps());
    expect(await filtered.json()).toEqual([]);
    const bad = await listV1Weights(getRequest("/api/v1/models/weights?format=h5", bearer(w.key)), deps());
    expect(bad.status).toBe(400);
    expect((await bad.json()).errors.format).toBeDefined();

    const other = await listV1Weights(getRequest("/api/v1/models/weights", bearer(w.otherKey)), deps());
    expect(await other.json()).toEqual([]);
    expect((await getV1Weights(getRequest(`/api/v1/models/weights/${body.id}`, bearer(w.otherKey)), routeContext({ id: String(body.id) }, deps()))).status).toBe(404);
    expect((await deleteV1Weights(request("DELETE", `/api/v1/models/weights/${body.id}`, w.key), routeContext({ id: String(body.id) }, deps()))).status).toBe(204);
  });

  it("POST {path} imports a server file under the import roots → 201; outside them or unreadable → 400 naming why", async () => {
    const file = path.join(importRoot, "server-side.onnx");
    await copyFile(ioFixture("ultralytics_like.onnx"), file);
    const res = await importV1Weights(jsonRequest("POST", "/api/v1/models/weights", { path: file, tags: ["imported"] }, bearer(w.key)), deps());
    expect(res.status).toBe(201);
    const body = await res.json();
    expect(body).toMatchObject({ name: "server-side", format: "onnx", tags: ["imported"] });

    const outside = await importV1Weights(jsonRequest("POST", "/api/v1/models/weights", { path: ioFixture("ultralytics_like.onnx") }, bearer(w.key)), deps());
    expect(outside.status).toBe(400);
    expect(await outside.json()).toMatchObject({ detail: expect.stringMatching(/outside the allowed import roots/), errors: { path: ["outside the allowed roots"] } });

    const legacy = path.join(importRoot, "legacy.pt");
    await copyFile(ioFixture("legacy.pt"), legacy);
    const unreadable = await importV1Weights(jsonRequest("POST", "/api/v1/models/weights", { path: legacy }, bearer(w.key)), deps());
    expect(unreadable.status).toBe(400);
    expect((await unreadable.json()).detail).toMatch(/legacy\.pt cannot be read: legacy PyTorch format/);

    const missingPath = await importV1Weights(jsonRequest("POST", "/api/v1/models/weights", {}, bearer(w.key)), deps());
    expect(missingPath.status).toBe(400);
    expect((await missingPath.json()).errors.path).toBeDefined();
    await deleteV1Weights(request("DELETE", `/api/v1/models/weights/${body.id}`, w.key), routeContext({ id: String(body.id) }, deps()));
  });

  it("PUT {tags, name, description} → 204 and the change shows; bad tags → 400", async () => {
    const { body } = await uploadOnnx(w.key);
    const id = { id: String(body.id) };
    const put = await updateV1Weights(jsonRequest("PUT", `/api/v1/models/weights/${body.id}`, { tags: ["best", "deploy"] }, bearer(w.key)), routeContext(id, deps()));
    expect(put.status).toBe(204);
    expect(await put.text()).toBe("");
    const renamed = await updateV1Weights(jsonRequest("PUT", `/api/v1/models/weights/${body.id}`, { name: "prod", description: "shipped" }, bearer(w.key)), routeContext(id, deps()));
    expect(renamed.status).toBe(204);
    const after = await (await getV1Weights(getRequest(`/api/v1/models/weights/${body.id}`, bearer(w.key)), routeContext(id, deps()))).json();
    expect(after).toMatchObject({ name: "prod", description: "shipped", tags: ["best", "deploy"] });

    await updateV1Weights(jsonRequest("PUT", `/api/v1/models/weights/${body.id}`, { remark: "the remark" }, bearer(w.key)), routeContext(id, deps()));
    expect(await (await getV1Weights(getRequest(`/api/v1/models/weights/${body.id}`, bearer(w.key)), routeContext(id, deps()))).json()).toMatchObject({ name: "prod", description: "the remark" });

    const bad = await updateV1Weights(jsonRequest("PUT", `/api/v1/models/weights/${body.id}`, { tags: "best" }, bearer(w.key)), routeContext(id, deps()));
    expect(bad.status).toBe(400);
    const viewer = await updateV1Weights(jsonRequest("PUT", `/api/v1/models/weights/${body.id}`, { tags: [] }, bearer(viewerKey)), routeContext(id, deps()));
    expect(viewer.status).toBe(403);
    const outsider = await updateV1Weights(jsonRequest("PUT", `/api/v1/models/weights/${body.id}`, { tags: [] }, bearer(w.otherKey)), routeContext(id, deps()));
    expect(outsider.status).toBe(404);
    await deleteV1Weights(request("DELETE", `/api/v1/models/weights/${body.id}`, w.key), routeContext(id, deps()));
  });

  it("GET /download is an attachment with the uploaded bytes, and honours Range", async () => {
    const { body } = await uploadOnnx(w.key);
    const id = { id: String(body.id) };
    const whole = await downloadV1Weights(getRequest(`/api/v1/models/weights/${body.id}/download`, bearer(viewerKey)), routeContext(id, deps()));
    expect(whole.status).toBe(200);
    expect(whole.headers.get("content-disposition")).toBe(`attachment; filename="detector.onnx"; filename*=UTF-8''detector.onnx`);
    expect(whole.headers.get("accept-ranges")).toBe("bytes");
    expect(sha256(new Uint8Array(await whole.arrayBuffer()))).toBe(sha256(onnx));

    const part = await downloadV1Weights(getRequest(`/api/v1/models/weights/${body.id}/download`, { ...bearer(w.key), range: "bytes=0-15" }), routeContext(id, deps()));
    expect(part.status).toBe(206);
    expect(part.headers.get("content-range")).toBe(`bytes 0-15/${onnx.length}`);
    expect(Buffer.from(await part.arrayBuffer())).toEqual(onnx.subarray(0, 16));

    expect((await downloadV1Weights(getRequest(`/api/v1/models/weights/${body.id}/download`, bearer(w.otherKey)), routeContext(id, deps()))).status).toBe(404);
    expect((await downloadV1Weights(getRequest(`/api/v1/models/weights/${body.id}/download`), routeContext(id, deps()))).status).toBe(401);
    await deleteV1Weights(request("DELETE", `/api/v1/models/weights/${body.id}`, w.key), routeContext(id, deps()));
  });

  it("DELETE → 204 and the file is gone from disk; 422 with the reason while a running experiment uses it; viewers 403", async () => {
    const { body } = await uploadOnnx(w.key);
    const id = { id: String(body.id) };
    const file = weightsFilePath(`weights/${body.sha256}/weights.onnx`);
    const [run] = await w.tdb.db
      .insert(experiments)
      .values({ projectId: w.defaultProjectId, name: "from-weights", datasetId: w.datasetId, hyperparameters: { weights: body.id }, status: "running" })
      .returning();

    const refused = await deleteV1Weights(request("DELETE", `/api/v1/models/weights/${body.id}`, w.key), routeContext(id, deps()));
    expect(refused.status).toBe(422);
    expect((await refused.json()).detail).toContain(`experiment(s) ${run.id} (running)`);
    expect((await deleteV1Weights(request("DELETE", `/api/v1/models/weights/${body.id}`, viewerKey), routeContext(id, deps()))).status).toBe(403);
    expect((await stat(file)).size).toBe(onnx.length);

    await w.tdb.db.delete(experiments);
    const deleted = await deleteV1Weights(request("DELETE", `/api/v1/models/weights/${body.id}`, w.key), routeContext(id, deps()));
    expect(deleted.status).toBe(204);
    await expect(stat(file)).rejects.toThrow(/ENOENT/);
    expect((await getV1Weights(getRequest(`/api/v1/models/weights/${body.id}`, bearer(w.key)), routeContext(id, deps()))).status).toBe(404);
  });

  it("POST multipart from a viewer → 403 and nothing stored; without credentials → 401", async () => {
    const { res } = await uploadOnnx(viewerKey);
    expect(res.status).toBe(403);
    const anonymous = await importV1Weights(uploadRequest("http://studio.test/api/v1/models/weights", { bytes: onnx, filename: "x.onnx" }), deps());
    expect(anonymous.status).toBe(401);
    const list = await listV1Weights(getRequest("/api/v1/models/weights", bearer(w.key)), deps());
    expect(await list.json()).toEqual([]);
  });
});

describe("seed 002 §2.5 POST /api/v1/experiments/{id}/save", () => {
  it("copies the best checkpoint (or the last when asked) into the library and answers the new entry (201)", async () => {
    const runDir = path.join(work, "data", "runs", "default", "saved");
    await writeTinyCheckpoint(path.join(runDir, "weights", "best.ckpt"), { epoch: 4, bestEpoch: 4, metrics: { top1_acc: 0.9 } });
    await writeTinyCheckpoint(path.join(runDir, "weights", "last.ckpt"), { epoch: 5, bestEpoch: 4, metrics: { top1_acc: 0.85 } });
    const [run] = await w.tdb.db
      .insert(experiments)
      .values({ projectId: w.defaultProjectId, name: "saved", datasetId: w.datasetId, model: "reference-cnn", hyperparameters: {}, status: "completed", runDir })
      .returning();
    const id = { id: String(run.id) };

    const best = await saveV1ExperimentWeights(request("POST", `/api/v1/experiments/${run.id}/save`, w.key), routeContext(id, deps()));
    expect(best.status).toBe(201);
    const entry = await best.json();
    expect(Object.keys(entry).sort()).toEqual(ENTRY_FIELDS);
    expect(entry).toMatchObject({ name: "saved-best", format: "ckpt", task: "classify", experiment_id: run.id, epoch: 4, dataset_id: w.datasetId, accuracy: 0.9, architecture: "reference-cnn", classes: ["cat", "dog"], tags: ["best"] });

    const last = await saveV1ExperimentWeights(jsonRequest("POST", `/api/v1/experiments/${run.id}/save`, { which: "last" }, bearer(w.key)), routeContext(id, deps()));
    expect(last.status).toBe(201);
    expect(await last.json()).toMatchObject({ name: "saved-last", epoch: 5, accuracy: 0.85 });

    const wrong = await saveV1ExperimentWeights(jsonRequest("POST", `/api/v1/experiments/${run.id}/save`, { which: "latest" }, bearer(w.key)), routeContext(id, deps()));
    expect(wrong.status).toBe(400);
    expect((await saveV1ExperimentWeights(request("POST", `/api/v1/experiments/${run.id}/save`, w.otherKey), routeContext(id, deps()))).status).toBe(404);
    expect((await saveV1ExperimentWeights(request("POST", `/api/v1/experiments/${run.id}/save`, viewerKey), routeContext(id, deps()))).status).toBe(403);

    const [fresh] = await w.tdb.db.insert(experiments).values({ projectId: w.defaultProjectId, name: "not-trained", datasetId: w.datasetId, hyperparameters: {}, status: "queued" }).returning();
    const none = await saveV1ExperimentWeights(request("POST", `/api/v1/experiments/${fresh.id}/save`, w.key), routeContext({ id: String(fresh.id) }, deps()));
    expect(none.status).toBe(422);
    expect((await none.json()).detail).toMatch(/has no best checkpoint yet/);
  });
});
