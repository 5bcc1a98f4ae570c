import { execFileSync } from "node:child_process";
import { createReadStream } from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { activeModels } from "@/db/schema";
import { resetEnvCache } from "@/server/env";
import { closeInferenceWorker } from "@/server/inference/client";
import { ffmpegAvailable } from "@/server/inference/devices";
import { predictUploadRoute } from "@/server/inference/routes";
import { predict } from "@/server/inference/service";
import { predictParams } from "@/server/inference/schemas";
import { inferenceFixture, testImage } from "@/server/inference/testing";
import { defaultProject } from "@/server/projects/service";
import { importUploadedWeights } from "@/server/weights/upload";
import { uploadRequest } from "@/server/weights/testing";
import { inferBase64, inferUpload } from "@/server/compat/recognition/infer";
import { v1InferenceDevices, v1InferencePredict, v1InferenceStreamStart, v1InferenceStreamStop } from "@/server/compat/studio-v1/inference";
import { createDialectWorld, type DialectWorld } from "./testing";

let w: DialectWorld;
let work: string;
let detectorId: number;
let otherTeamsId: number;
let png: Buffer;

const auth = (key = w.key) => ({ authorization: `Bearer ${key}` });

function multipart(url: string, files: { field: string; bytes: Uint8Array; name: string }[], fields: Record<string, string>, key?: string): Request {
  const form = new FormData();
  for (const [name, value] of Object.entries(fields)) form.set(name, value);
  for (const file of files) form.append(file.field, new Blob([file.bytes as Uint8Array<ArrayBuffer>]), file.name);
  return new Request(url, { method: "POST", body: form, headers: auth(key) });
}

const json = (url: string, body: unknown, key?: string) =>
  new Request(url, { method: "POST", body: JSON.stringify(body), headers: { ...auth(key), "content-type": "application/json" } });

/** Serves work/served/ over HTTP: the configured stream URL the tests start. */
let videoServer: http.Server;
let streamUrl: string;

beforeAll(async () => {
  work = await mkdtemp(path.join(os.tmpdir(), "inference-routes-"));
  await mkdir(path.join(work, "imports"), { recursive: true });
  await mkdir(path.join(work, "served"), { recursive: true });
  videoServer = http.createServer((req, res) => {
    createReadStream(path.join(work, "served", path.basename(req.url ?? "")))
      .on("error", () => res.writeHead(404).end())
      .pipe(res);
  });
  await new Promise<void>((resolve) => videoServer.listen(0, "127.0.0.1", resolve));
  streamUrl = `http://127.0.0.1:${(videoServer.address() as AddressInfo).port}/clip.mp4`;
  process.env.STUDIO_DATA_DIR = path.join(work, "data");
  process.env.STUDIO_IMPORT_ROOTS = path.join(work, "imports");
  process.env.STUDIO_STREAM_URLS = `${streamUrl} rtsp://viewer:s3cret@camera.invalid/live`;
  resetEnvCache();
  w = await createDialectWorld();
  const bytes = await readFile(inferenceFixture("ultralytics_detect.onnx"));
  const upload = async (ctx: typeof w.ctx) =>
    importUploadedWeights(ctx, uploadRequest("http://t/api/weights", { bytes, filename: "yolo.onnx" }, { project_id: String((await defaultProject(ctx)).id) }));
  detectorId = (await upload(w.ctx)).id;
  otherTeamsId = (await upload(w.otherCtx)).id;
  png = await testImage(96, 64);
});

afterAll(async () => {
  delete process.env.STUDIO_STREAM_URLS;
  videoServer?.close();
  await closeInferenceWorker();
  await w?.close();
  await rm(work, { recursive: true, force: true });
});

describe("seed 002 §2.6", () => {
  it("POST /api/v1/inference/predict: each `images` part is one image of the batch, as the predict path answers it", async () => {
    const res = await v1InferencePredict(
      multipart("http://t/api/v1/inference/predict", [{ field: "images", bytes: png, name: "a.png" }, { field: "images", bytes: await testImage(64, 64, 2), name: "b.png" }], { model_id: `w${detectorId}`, conf: "0.3" }),
      { db: w.tdb.db },
    );
    expect(res.status).toBe(200);
    const body = await res.json();
    expect(Object.keys(body).sort()).toEqual(["images", "imgsz", "model_id", "provider", "task"]);
    expect(body).toMatchObject({ model_id: detectorId, task: "detect", provider: "cpu", imgsz: [64, 64] });
    expect(body.images).toHaveLength(2);
    expect(body.images[0]).toMatchObject({ width: 96, height: 64, speed: { preprocess: expect.any(Number), inference: expect.any(Number), postprocess: expect.any(Number) } });
    expect(body.images[0].detections.length).toBeGreaterThan(0);
    for (const d of body.images[0].detections) {
      expect(Object.keys(d).sort()).toEqual(["box", "class_id", "confidence", "name", "xywhn"]);
      expect(d.confidence).toBeGreaterThan(0.3);
      expect(Object.keys(d.box).sort()).toEqual(["x1", "x2", "y1", "y2"]);
    }
    // The same image as base64 through tRPC's service gives the same answer.
    const viaBase64 = await predict(w.ctx, { ...predictParams.parse({ conf: 0.3 }), weightsId: detectorId, images: [{ base64: png.toString("base64") }] });
    expect(viaBase64.images[0].detections).toEqual(body.images[0].detections);
  });

  it("takes `image` and `file` for the field too, and refuses what it cannot run with {detail}", async () => {
    const one = async (field: string, fields: Record<string, string>, bytes: Uint8Array = png, key?: string) => {
      const res = await v1InferencePredict(multipart("http://t/api/v1/inference/predict", [{ field, bytes, name: "x.png" }], fields, key), { db: w.tdb.db });
      return { status: res.status, body: await res.json() };
    };
    expect((await one("image", { model_id: String(detectorId) })).status).toBe(200);
    expect((await one("file", { model_id: String(detectorId) })).status).toBe(200);
    expect(await one("images", {})).toEqual({ status: 400, body: expect.objectContaining({ detail: "model_id is required" }) });
    expect((await one("images", { model_id: "w999999" })).status).toBe(404);
    expect((await one("images", { model_id: String(otherTeamsId) })).status).toBe(404);
    expect((await one("images", { model_id: String(detectorId) }, Buffer.from("%PDF-1.4 not an image"))).body.detail).toMatch(/not an image/);
    expect((await one("images", { model_id: String(detectorId), conf: "high" })).status).toBe(400);
    expect((await one("notes", { model_id: String(detectorId) })).body.detail).toMatch(/no image/);
    expect((await one("images", { model_id: String(detectorId) }, png, "not-a-key")).status).toBe(401);
  });

  it("GET /api/v1/inference/devices lists cameras, stream sources and compute devices", async () => {
    const res = await v1InferenceDevices(new Request("http://t/api/v1/inference/devices", { headers: auth() }), { db: w.tdb.db });
    expect(res.status).toBe(200);
    const body = await res.json();
    expect(Object.keys(body).sort()).toEqual(["cameras", "compute", "ffmpeg", "sources"]);
    expect(body.compute).toContainEqual({ id: "cpu", kind: "cpu", available: true });
    expect(body.sources).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ id: "url:1", type: "url", path: streamUrl }),
        expect.objectContaining({ id: "url:2", type: "url", path: "rtsp://***@camera.invalid/live" }),
      ]),
    );
    expect(JSON.stringify(body)).not.toContain("s3cret");
  });

  it("stream/start reads only the stream URLs the studio is configured with (STUDIO_STREAM_URLS), by id or as written", async ({ skip }) => {
    const start = (device_id: string) => v1InferenceStreamStart(json("http://t/api/v1/inference/stream/start", { device_id, model_id: detectorId }), { db: w.tdb.db });
    for (const url of ["http://169.254.169.254/latest/meta-data", "file:///etc/passwd", "rtsp://viewer:s3cret@elsewhere.invalid/live"]) {
      const res = await start(url);
      expect(res.status, url).toBe(400);
      const body = await res.json();
      expect(body.detail, url).toMatch(/not one of this studio's stream URLs: an administrator lists the URLs streams may read in STUDIO_STREAM_URLS/);
      expect(JSON.stringify(body)).not.toContain("s3cret");
    }
    expect((await start("url:9")).status).toBe(404);
    if (!(await ffmpegAvailable())) return skip();
    execFileSync("ffmpeg", ["-loglevel", "error", "-f", "lavfi", "-i", "testsrc=size=160x120:rate=10", "-t", "30", "-pix_fmt", "yuv420p", "-movflags", "+faststart", path.join(work, "served", "clip.mp4")]);
    const stop = () => v1InferenceStreamStop(new Request("http://t/api/v1/inference/stream/stop", { method: "POST", headers: auth() }), { db: w.tdb.db });
    for (const device of ["url:1", streamUrl]) {
      const res = await start(device);
      expect(res.status, device).toBe(201);
      const started = await res.json();
      expect(started).toMatchObject({ status: "running", device_id: device, pid: expect.any(Number) });
      expect(await (await stop()).json()).toEqual({ status: "stopped", was_running: true });
      await expect.poll(() => { try { process.kill(started.pid, 0); return "alive"; } catch { return "gone"; } }, { timeout: 10_000 }).toBe("gone");
    }
  });

  it("stream/start runs ffmpeg on a video file and stream/stop releases it, twice over", async ({ skip }) => {
    const hasFfmpeg = (await (await v1InferenceDevices(new Request("http://t/", { headers: auth() }), { db: w.tdb.db })).json()).ffmpeg;
    const start = (body: unknown) => v1InferenceStreamStart(json("http://t/api/v1/inference/stream/start", body), { db: w.tdb.db });
    if (!hasFfmpeg) {
      await writeFile(path.join(work, "imports", "unplayable.mp4"), "no ffmpeg to play it");
      const res = await start({ device_id: path.join(work, "imports", "unplayable.mp4"), model_id: detectorId });
      expect(await res.json()).toMatchObject({ detail: expect.stringMatching(/ffmpeg is not installed/) });
      return skip();
    }
    const video = path.join(work, "imports", "clip.mp4");
    execFileSync("ffmpeg", ["-loglevel", "error", "-f", "lavfi", "-i", "testsrc=size=160x120:rate=10", "-t", "30", "-pix_fmt", "yuv420p", video]);
    expect((await start({ device_id: "7", model_id: detectorId })).status).toBe(404);
    expect((await start({ device_id: "/etc/passwd", model_id: detectorId })).status).toBe(404);
    expect((await start({ device_id: "file:1" })).status).toBe(400);
    const res = await start({ device_id: "file:1", model_id: detectorId });
    expect(res.status).toBe(201);
    const started = await res.json();
    expect(started).toMatchObject({ status: "running", device_id: "file:1", model_id: detectorId, pid: expect.any(Number) });
    expect(() => process.kill(started.pid, 0)).not.toThrow();
    const stop = () => v1InferenceStreamStop(new Request("http://t/api/v1/inference/stream/stop", { method: "POST", headers: auth() }), { db: w.tdb.db });
    expect(await (await stop()).json()).toEqual({ status: "stopped", was_running: true });
    expect(await (await stop()).json()).toEqual({ status: "stopped", was_running: false });
    await expect.poll(() => { try { process.kill(started.pid, 0); return "alive"; } catch { return "gone"; } }, { timeout: 10_000 }).toBe("gone");
  });
});

describe("seed 003 /infer", () => {
  it("POST /infer (multipart file) and /infer/base64 answer the same predictions in that backend's naming", async () => {
    const upload = await inferUpload(multipart("http://t/infer", [{ field: "file", bytes: png, name: "a.png" }], { model_id: String(detectorId) }), { db: w.tdb.db });
    expect(upload.status).toBe(200);
    const a = await upload.json();
    expect(Object.keys(a).sort()).toEqual(["image_size", "inference_time", "model_id", "predictions", "provider", "task"]);
    expect(a).toMatchObject({ model_id: String(detectorId), task: "detect", image_size: [96, 64], inference_time: expect.any(Number) });
    for (const p of a.predictions) expect(Object.keys(p).sort()).toEqual(["bbox", "class_id", "class_name", "confidence"]);
    const b = await (await inferBase64(json("http://t/infer/base64", { image: `data:image/png;base64,${png.toString("base64")}`, model_id: String(detectorId) }), { db: w.tdb.db })).json();
    expect(b.predictions).toEqual(a.predictions);
    expect(a.predictions.length).toBeGreaterThan(0);
  });

  it("uses the team's active model when no model_id is sent, and says how to set one when there is none", async () => {
    const noModel = await inferBase64(json("http://t/infer/base64", { image: png.toString("base64") }), { db: w.tdb.db });
    expect(noModel.status).toBe(400);
    expect((await noModel.json()).detail).toMatch(/active model/);
    await w.tdb.db.insert(activeModels).values({ teamId: w.teamId, weightsId: detectorId });
    const res = await inferUpload(multipart("http://t/infer", [{ field: "file", bytes: png, name: "a.png" }], {}), { db: w.tdb.db });
    expect(await res.json()).toMatchObject({ model_id: String(detectorId) });
  });

  it("refuses bad base64, another team's model and a missing image", async () => {
    expect((await inferBase64(json("http://t/infer/base64", { image: "%%% nope", model_id: String(detectorId) }), { db: w.tdb.db })).status).toBe(400);
    expect((await inferBase64(json("http://t/infer/base64", { model_id: String(detectorId) }), { db: w.tdb.db })).status).toBe(400);
    expect((await inferBase64(json("http://t/infer/base64", { image: png.toString("base64"), model_id: String(otherTeamsId) }), { db: w.tdb.db })).status).toBe(404);
    expect((await inferBase64(json("http://t/infer/base64", { image: png.toString("base64"), model_id: "no-such-model" }), { db: w.tdb.db })).status).toBe(404);
  });
});

describe("studio upload route", () => {
  it("POST /api/inference/predict takes the page's multipart batch with weights_id", async () => {
    const res = await predictUploadRoute(multipart("http://t/api/inference/predict", [{ field: "images", bytes: png, name: "a.png" }], { weights_id: String(detectorId), annotate: "true" }), { db: w.tdb.db });
    expect(res.status).toBe(200);
    const body = await res.json();
    expect(body.images[0].annotated_image).toMatch(/^data:image\/jpeg;base64,/);
  });
});
