import { createHash } from "node:crypto";
import { copyFile, mkdir, mkdtemp, readdir, readFile, rm, stat } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { experiments } from "@/db/schema";
import { seedMemberViewerAndOutsider } from "@/db/testing/fixtures";
import { createTestDb, type TestDb } from "@/db/testing/test-db";
import type { Ctx } from "@/server/context";
import { resetEnvCache } from "@/server/env";
import { Conflict, Forbidden, Invalid, NotFound, TooLarge } from "@/server/errors";
import { defaultProject } from "@/server/projects/service";
import {
  deleteWeights,
  downloadResponse,
  getWeights,
  importUploadedWeights,
  importWeightsFromPath,
  listWeights,
  receiveWeightsUpload,
  saveExperimentWeights,
  updateWeights,
  weightsDownload,
} from "./service";
import { weightsFilePath } from "./storage";
import { ioFixture, tfjsZip, uploadRequest, writeTinyCheckpoint } from "./testing";

let tdb: TestDb;
let work: string;
let importRoot: string;
let member: Ctx;
let outsider: Ctx;
let viewer: Ctx;
let projectId: number;

const sha256 = (bytes: Uint8Array) => createHash("sha256").update(bytes).digest("hex");
const upload = (ctx: Ctx, filename: string, bytes: Uint8Array, fields: Record<string, string> = {}) =>
  importUploadedWeights(ctx, uploadRequest("http://studio.test/api/weights", { bytes, filename }, { project_id: String(projectId), ...fields }));
const dataDir = () => path.join(work, "data");
const listDir = (dir: string) => readdir(dir).catch(() => [] as string[]);
/** What is left in the content store and the staging folder. */
const storedContents = () => listDir(path.join(dataDir(), "weights"));
const stagedFiles = async () => (await listDir(path.join(dataDir(), "tmp"))).filter((name) => name.startsWith("weights-"));

let onnx: Buffer;
let pt: Buffer;

beforeAll(async () => {
  work = await mkdtemp(path.join(os.tmpdir(), "weights-"));
  importRoot = path.join(work, "imports");
  await mkdir(importRoot, { recursive: true });
  process.env.STUDIO_DATA_DIR = dataDir();
  process.env.STUDIO_IMPORT_ROOTS = importRoot;
  resetEnvCache();
  tdb = await createTestDb();
  ({ member, outsider, viewer } = await seedMemberViewerAndOutsider(tdb.db));
  projectId = (await defaultProject(member)).id;
  onnx = await readFile(ioFixture("ultralytics_like.onnx"));
  pt = await readFile(ioFixture("ultralytics_like.pt"));
});

afterAll(async () => {
  await tdb?.close();
  await rm(work, { recursive: true, force: true });
});

describe("weights library", () => {
  it("imports an ONNX upload with what the file declares, and downloads the same bytes, whole or by range", async () => {
    const entry = await upload(member, "yolo-export.onnx", onnx, { tags: "deploy, best", description: "exported" });
    expect(entry).toMatchObject({
      name: "yolo-export",
      format: "onnx",
      task: "detect",
      classNames: ["person", "bicycle's wheel"],
      imgsz: [64, 64],
      inputShape: [1, 3, 64, 64],
      bytes: onnx.length,
      sha256: sha256(onnx),
      tags: ["deploy", "best"],
      description: "exported",
      status: "ready",
      metrics: null,
      projectName: "default",
    });
    expect(entry.details).toMatchObject({ opsets: [{ domain: "", version: 12 }], stride: 32 });
    // The studio names the stored file itself.
    expect(entry.file).toBe(`weights/${entry.sha256}/weights.onnx`);

    const download = await weightsDownload(member, entry.id);
    const whole = downloadResponse(download, new Request("http://studio.test/x"));
    expect(whole.status).toBe(200);
    expect(whole.headers.get("content-disposition")).toMatch(/^attachment; filename="yolo-export\.onnx"/);
    expect(whole.headers.get("content-length")).toBe(String(onnx.length));
    expect(sha256(new Uint8Array(await whole.arrayBuffer()))).toBe(sha256(onnx));

    const slice = downloadResponse(download, new Request("http://studio.test/x", { headers: { range: "bytes=100-1099" } }));
    expect(slice.status).toBe(206);
    expect(slice.headers.get("content-range")).toBe(`bytes 100-1099/${onnx.length}`);
    expect(Buffer.from(await slice.arrayBuffer())).toEqual(onnx.subarray(100, 1100));

    const tail = downloadResponse(download, new Request("http://studio.test/x", { headers: { range: "bytes=-10" } }));
    expect(Buffer.from(await tail.arrayBuffer())).toEqual(onnx.subarray(onnx.length - 10));

    const beyond = downloadResponse(download, new Request("http://studio.test/x", { headers: { range: `bytes=${onnx.length}-` } }));
    expect(beyond.status).toBe(416);
    expect(beyond.headers.get("content-range")).toBe(`bytes */${onnx.length}`);
    await deleteWeights(member, entry.id);
  });

  it("reads an Ultralytics checkpoint's classes, task, image size and model without running its pickle", async () => {
    const entry = await upload(member, "best.pt", pt);
    expect(entry).toMatchObject({ format: "pt", task: "detect", classNames: ["person", "bicycle", "traffic light"], imgsz: [320, 320], file: `weights/${sha256(pt)}/weights.pt` });
    expect(entry.details).toMatchObject({ kind: "ultralytics", nc: 3, yaml: { scale: "n" } });
    expect(entry.details.tensors).toBeGreaterThan(0);
    await deleteWeights(member, entry.id);
  });

  it("reads a zipped TF.js model folder's input, and refuses a zip whose model.json lists missing shards", async () => {
    const entry = await upload(member, "classifier.zip", await tfjsZip());
    expect(entry).toMatchObject({ format: "tfjs", inputShape: ["?", 32, 32, 3], imgsz: [32, 32], file: expect.stringMatching(/\/weights\.zip$/) });
    expect(entry.details).toMatchObject({ format: "layers-model", weightFiles: 1, weightTensors: 2 });
    await deleteWeights(member, entry.id);

    await expect(upload(member, "broken.zip", await tfjsZip({ "model/group1-shard1of1.bin": null }))).rejects.toThrow(/lists the weights file group1-shard1of1\.bin, which the archive lacks/);
    await expect(upload(member, "other.zip", await tfjsZip({ "model/model.json": null }))).rejects.toThrow(/no model\.json/);
    expect(await storedContents()).toEqual([]);
  });

  it("stores the same content once; the file goes with the last entry that uses it", async () => {
    const first = await upload(member, "a.onnx", onnx);
    const second = await upload(member, "b.onnx", onnx);
    expect(second.file).toBe(first.file);
    expect(await storedContents()).toEqual([sha256(onnx)]);
    const file = weightsFilePath(first.file);

    await deleteWeights(member, first.id);
    expect((await stat(file)).size).toBe(onnx.length);
    await deleteWeights(member, second.id);
    await expect(stat(file)).rejects.toThrow(/ENOENT/);
    expect(await storedContents()).toEqual([]);
  });

  it("refuses to delete weights a queued or running experiment starts from, naming it", async () => {
    const entry = await upload(member, "base.onnx", onnx);
    const [run] = await tdb.db
      .insert(experiments)
      .values({ projectId, name: "fine-tune", hyperparameters: { weights: entry.id }, status: "running" })
      .returning();
    const refusal = await deleteWeights(member, entry.id).catch((e: unknown) => e);
    expect(refusal).toBeInstanceOf(Conflict);
    expect((refusal as Error).message).toContain(`experiment(s) ${run.id} (running)`);
    expect((await stat(weightsFilePath(entry.file))).isFile()).toBe(true);

    await tdb.db.update(experiments).set({ status: "completed" }).where(eq(experiments.id, run.id));
    await deleteWeights(member, entry.id);
    await expect(stat(weightsFilePath(entry.file))).rejects.toThrow(/ENOENT/);
  });

  it("leaves no entry and no file when an upload cannot be read, is too large or names a missing project", async () => {
    const before = (await listWeights(member)).length;
    await expect(upload(member, "garbage.onnx", Buffer.from("this is not a model at all"))).rejects.toThrow(Invalid);
    const legacy = await upload(member, "old.pt", await readFile(ioFixture("legacy.pt"))).catch((e: unknown) => e);
    expect(legacy).toBeInstanceOf(Invalid);
    expect((legacy as Error).message).toMatch(/old\.pt cannot be read: legacy PyTorch format/);
    await expect(importUploadedWeights(member, uploadRequest("http://studio.test/x", { bytes: onnx, filename: "x.onnx" }, { project_id: "999999" }))).rejects.toThrow(NotFound);
    await expect(receiveWeightsUpload(uploadRequest("http://studio.test/x", { bytes: onnx, filename: "x.onnx" }), 1000)).rejects.toThrow(TooLarge);
    await expect(importUploadedWeights(member, uploadRequest("http://studio.test/x", { bytes: onnx, filename: "x.onnx" }, { tags: "[not json" }))).rejects.toThrow(/tags/);

    expect(await listWeights(member)).toHaveLength(before);
    expect(await storedContents()).toEqual([]);
    expect(await stagedFiles()).toEqual([]);
  });

  it("imports a file under the import roots by path, and refuses one outside them", async () => {
    const file = path.join(importRoot, "exported.onnx");
    await copyFile(ioFixture("ultralytics_like.onnx"), file);
    const entry = await importWeightsFromPath(member, { projectId, path: file, description: "", tags: [] });
    expect(entry).toMatchObject({ name: "exported", format: "onnx", sha256: sha256(onnx) });
    // Copied, not moved.
    expect((await stat(file)).isFile()).toBe(true);
    await expect(importWeightsFromPath(member, { projectId, path: ioFixture("ultralytics_like.onnx"), description: "", tags: [] })).rejects.toThrow(/outside the allowed import roots/);
    await deleteWeights(member, entry.id);
    expect(await stagedFiles()).toEqual([]);
  });

  it("lists with filters and search, renames and retags", async () => {
    const detector = await upload(member, "detector.onnx", onnx, { tags: "deploy" });
    const checkpoint = await upload(member, "yolo.pt", pt, { description: "the COCO baseline" });
    const names = async (input: Parameters<typeof listWeights>[1]) => (await listWeights(member, input)).map((w) => w.name).sort();
    expect(await names({ format: "pt", limit: 100 })).toEqual(["yolo"]);
    expect(await names({ tag: "deploy", limit: 100 })).toEqual(["detector"]);
    expect(await names({ task: "detect", limit: 100 })).toEqual(["detector", "yolo"]);
    expect(await names({ search: "coco", limit: 100 })).toEqual(["yolo"]);
    expect(await names({ search: "100%", limit: 100 })).toEqual([]);

    const renamed = await updateWeights(member, { id: detector.id, name: "prod detector", tags: ["best", "deploy"] });
    expect(renamed).toMatchObject({ name: "prod detector", tags: ["best", "deploy"], description: "" });
    await deleteWeights(member, detector.id);
    await deleteWeights(member, checkpoint.id);
  });

  it("hides a team's weights from another team (404) and lets viewers read but not change them (403)", async () => {
    const entry = await upload(member, "private.onnx", onnx);
    expect(await listWeights(outsider)).toEqual([]);
    await expect(getWeights(outsider, entry.id)).rejects.toThrow(NotFound);
    await expect(weightsDownload(outsider, entry.id)).rejects.toThrow(NotFound);
    await expect(updateWeights(outsider, { id: entry.id, name: "mine" })).rejects.toThrow(NotFound);
    await expect(deleteWeights(outsider, entry.id)).rejects.toThrow(NotFound);

    expect((await getWeights(viewer, entry.id)).name).toBe("private");
    expect((await weightsDownload(viewer, entry.id)).bytes).toBe(onnx.length);
    await expect(upload(viewer, "v.onnx", onnx)).rejects.toThrow(Forbidden);
    await expect(updateWeights(viewer, { id: entry.id, name: "x" })).rejects.toThrow(Forbidden);
    await expect(deleteWeights(viewer, entry.id)).rejects.toThrow(Forbidden);
    await deleteWeights(member, entry.id);
  });

  it("saves a run's best or last checkpoint into the library with its lineage and metrics", async () => {
    const runDir = path.join(dataDir(), "runs", "default", "exp");
    await writeTinyCheckpoint(path.join(runDir, "weights", "best.ckpt"), { epoch: 2, bestEpoch: 2, metrics: { top1_acc: 0.75, val_loss: 0.5 } });
    await writeTinyCheckpoint(path.join(runDir, "weights", "last.ckpt"), { epoch: 3, bestEpoch: 2, metrics: { top1_acc: 0.7, val_loss: 0.6 } });
    const [run] = await tdb.db.insert(experiments).values({ projectId, name: "exp", model: "reference-cnn", hyperparameters: {}, status: "completed", runDir }).returning();

    const best = await saveExperimentWeights(member, run.id, { which: "best" });
    expect(best).toMatchObject({
      name: "exp-best",
      format: "ckpt",
      task: "classify",
      classNames: ["cat", "dog"],
      inputShape: [8, 8, 3],
      imgsz: [8, 8],
      tags: ["best"],
      sourceExperimentId: run.id,
      sourceExperimentName: "exp",
      sourceEpoch: 2,
      datasetSplit: "train",
      model: "reference-cnn",
    });
    expect(best.metrics).toMatchObject({ values: { top1_acc: 0.75 }, source: "training", split: "val" });
    const last = await saveExperimentWeights(member, run.id, { which: "last" });
    expect(last).toMatchObject({ name: "exp-last", sourceEpoch: 3, metrics: { values: { top1_acc: 0.7 } } });

    const [fresh] = await tdb.db.insert(experiments).values({ projectId, name: "fresh", hyperparameters: {}, status: "queued" }).returning();
    await expect(saveExperimentWeights(member, fresh.id, { which: "best" })).rejects.toThrow(/has no best checkpoint yet/);
    await expect(saveExperimentWeights(outsider, run.id, { which: "best" })).rejects.toThrow(NotFound);
    await expect(saveExperimentWeights(viewer, run.id, { which: "best" })).rejects.toThrow(Forbidden);

    // The run's own files stay where they are.
    expect((await stat(path.join(runDir, "weights", "best.ckpt"))).isFile()).toBe(true);
    await deleteWeights(member, best.id);
    await deleteWeights(member, last.id);
  });

  it("refuses an empty upload and one without a file field", async () => {
    await expect(upload(member, "empty.onnx", new Uint8Array(0))).rejects.toThrow(/empty/);
    const form = new FormData();
    form.set("name", "nothing");
    await expect(importUploadedWeights(member, new Request("http://studio.test/x", { method: "POST", body: form }))).rejects.toThrow(/no `file` field/);
    expect(await stagedFiles()).toEqual([]);
  });
});
