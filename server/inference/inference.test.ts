import { mkdtemp, readFile, rm, stat } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import sharp from "sharp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { seedMemberViewerAndOutsider } from "@/db/testing/fixtures";
import { createTestDb, type TestDb } from "@/db/testing/test-db";
import type { Ctx } from "@/server/context";
import { resetEnvCache } from "@/server/env";
import { Forbidden, Invalid, NotFound, TooLarge } from "@/server/errors";
import { letterbox } from "@/server/ml/data/image";
import { nonMaxSuppression } from "@/server/ml/detect/nms";
import { defaultProject } from "@/server/projects/service";
import { importUploadedWeights } from "@/server/weights/upload";
import { weightsFilePath } from "@/server/weights/storage";
import { uploadRequest, writeTinyCheckpoint } from "@/server/weights/testing";
import { closeInferenceWorker, workerCacheStats } from "./client";
import { EXPORTED_NAME } from "./onnx-file";
import { letterboxGeometry } from "./preprocess";
import { predictParams } from "./schemas";
import { decodeBase64Image, predict, predictImages, setPreprocessing } from "./service";
import { bareRun, inferenceFixture, rawPixels, testImage, toNchw } from "./testing";

let tdb: TestDb;
let work: string;
let member: Ctx;
let outsider: Ctx;
let viewer: Ctx;
let detectorId: number;
let classifierId: number;

const params = (overrides: Record<string, unknown> = {}) => predictParams.parse(overrides);
const IMAGENET = { mean: [0.485, 0.456, 0.406] as [number, number, number], std: [0.229, 0.224, 0.225] as [number, number, number] };

async function importFile(ctx: Ctx, file: string, filename: string, fields: Record<string, string> = {}) {
  const projectId = (await defaultProject(ctx)).id;
  return importUploadedWeights(ctx, uploadRequest("http://studio.test/api/weights", { bytes: await readFile(file), filename }, { project_id: String(projectId), ...fields }));
}

beforeAll(async () => {
  work = await mkdtemp(path.join(os.tmpdir(), "inference-"));
  process.env.STUDIO_DATA_DIR = path.join(work, "data");
  resetEnvCache();
  tdb = await createTestDb();
  ({ member, outsider, viewer } = await seedMemberViewerAndOutsider(tdb.db));
  detectorId = (await importFile(member, inferenceFixture("ultralytics_detect.onnx"), "yolo.onnx")).id;
  classifierId = (await importFile(member, inferenceFixture("torchvision_classify.onnx"), "resnet.onnx")).id;
});

afterAll(async () => {
  await closeInferenceWorker();
  await tdb?.close();
  await rm(work, { recursive: true, force: true });
});

describe("letterbox geometry", () => {
  it("fits the long side, centres, and pads the rest as Ultralytics' LetterBox does", () => {
    expect(letterboxGeometry(640, 480, [640, 640])).toEqual({ scale: 1, w: 640, h: 480, padX: 0, padY: 80 });
    expect(letterboxGeometry(100, 50, [64, 64])).toEqual({ scale: 0.64, w: 64, h: 32, padX: 0, padY: 16 });
    // Odd padding: the extra pixel goes to the bottom/right (round(dh - 0.1) on top).
    expect(letterboxGeometry(64, 33, [64, 64])).toMatchObject({ h: 33, padY: 15 });
  });
});

describe("predict", () => {
  it("gives what a bare ONNX Runtime session and the engine's NMS give on the same file and image", async () => {
    const png = await testImage(64, 64);
    const result = await predictImages(member, detectorId, [{ bytes: png, label: "a.png" }], params());
    const bare = await bareRun(inferenceFixture("ultralytics_detect.onnx"), toNchw(await rawPixels(png)), [1, 3, 64, 64]);
    const [expected] = nonMaxSuppression(bare.data, { batch: 1, numClasses: 3, anchors: bare.dims[2] }, { conf: 0.25, iou: 0.7, maxDet: 300 });
    expect(result).toMatchObject({ model_id: detectorId, task: "detect", provider: "cpu", imgsz: [64, 64] });
    const [image] = result.images;
    expect(image).toMatchObject({ width: 64, height: 64 });
    expect(expected.length).toBeGreaterThan(0);
    expect(image.detections).toHaveLength(expected.length);
    image.detections!.forEach((d, i) => {
      expect(d.class_id).toBe(expected[i].cls);
      expect(d.name).toBe(["red", "green", "blue"][expected[i].cls]);
      expect(d.confidence).toBeCloseTo(expected[i].score, 4);
      const clip = (v: number) => Math.min(64, Math.max(0, v));
      expect([d.box.x1, d.box.y1, d.box.x2, d.box.y2]).toEqual(expected[i].box.map((v) => expect.closeTo(clip(v), 1)));
      expect(d.xywhn[0]).toBeCloseTo((d.box.x1 + d.box.x2) / 2 / 64, 3);
    });
    expect(image.speed.inference).toBeGreaterThanOrEqual(0);
  });

  it("scales boxes back to a non-square original through the letterbox", async () => {
    const png = await testImage(128, 64, 2);
    const result = await predictImages(member, detectorId, [{ bytes: png, label: "wide.png" }], params());
    const boxed = await letterbox(await rawPixels(png), 64);
    expect(boxed).toMatchObject({ scale: 0.5, padX: 0, padY: 16 });
    const bare = await bareRun(inferenceFixture("ultralytics_detect.onnx"), toNchw(boxed.img), [1, 3, 64, 64]);
    const [expected] = nonMaxSuppression(bare.data, { batch: 1, numClasses: 3, anchors: bare.dims[2] }, { conf: 0.25, iou: 0.7, maxDet: 300 });
    const [image] = result.images;
    expect(image).toMatchObject({ width: 128, height: 64 });
    expect(image.detections!.length).toBe(expected.length);
    image.detections!.forEach((d, i) => {
      const [x1, y1, x2, y2] = expected[i].box;
      const back = (v: number, pad: number, max: number) => Math.min(max, Math.max(0, (v - pad) / 0.5));
      expect(d.box.x1).toBeCloseTo(back(x1, 0, 128), 1);
      expect(d.box.y1).toBeCloseTo(back(y1, 16, 64), 1);
      expect(d.box.x2).toBeCloseTo(back(x2, 0, 128), 1);
      expect(d.box.y2).toBeCloseTo(back(y2, 16, 64), 1);
      expect(d.xywhn[2]).toBeCloseTo((d.box.x2 - d.box.x1) / 128, 3);
    });
  });

  it("filters by class before NMS, suppresses across classes when agnostic, and keeps only boxes above conf", async () => {
    const png = [{ bytes: await testImage(64, 64, 3), label: "c.png" }];
    const all = (await predictImages(member, detectorId, png, params())).images[0].detections!;
    const onlyGreen = (await predictImages(member, detectorId, png, params({ classes: [1] }))).images[0].detections!;
    expect(new Set(all.map((d) => d.class_id)).size).toBeGreaterThan(1);
    expect(onlyGreen).toEqual(all.filter((d) => d.class_id === 1));
    const perClass = (await predictImages(member, detectorId, png, params({ iou: 0.3 }))).images[0].detections!;
    const agnostic = (await predictImages(member, detectorId, png, params({ agnostic_nms: true, iou: 0.3 }))).images[0].detections!;
    const bare = await bareRun(inferenceFixture("ultralytics_detect.onnx"), toNchw(await rawPixels(png[0].bytes)), [1, 3, 64, 64]);
    const [expected] = nonMaxSuppression(bare.data, { batch: 1, numClasses: 3, anchors: bare.dims[2] }, { conf: 0.25, iou: 0.3, agnostic: true });
    expect(agnostic.map((d) => [d.class_id, d.confidence])).toEqual(expected.map((d) => [d.cls, expect.closeTo(d.score, 4)]));
    expect(agnostic.length).toBeLessThan(perClass.length);
    const confident = (await predictImages(member, detectorId, png, params({ conf: 0.6 }))).images[0].detections!;
    expect(confident.every((d) => d.confidence > 0.6)).toBe(true);
    expect(confident.length).toBeLessThan(all.length);
    const capped = (await predictImages(member, detectorId, png, params({ max_det: 2 }))).images[0].detections!;
    expect(capped).toEqual(all.slice(0, 2));
  });

  it("runs many images as one batch with the same answers as one by one", async () => {
    const images = await Promise.all([testImage(64, 64, 1), testImage(96, 64, 2), testImage(40, 80, 3)]);
    const batch = await predictImages(member, detectorId, images.map((bytes, i) => ({ bytes, label: `${i}` })), params());
    const single = await Promise.all(images.map(async (bytes) => (await predictImages(member, detectorId, [{ bytes, label: "x" }], params())).images[0]));
    expect(batch.images.map((i) => i.detections)).toEqual(single.map((i) => i.detections));
  });

  it("answers concurrent requests (whose runs may be coalesced) as it answers them one by one", async () => {
    const images = await Promise.all([1, 2, 3, 4, 5, 6].map((seed) => testImage(64 + 8 * seed, 64, seed)));
    const before = await workerCacheStats();
    const together = await Promise.all(images.map((bytes) => predictImages(member, detectorId, [{ bytes, label: "x" }], params())));
    const after = await workerCacheStats();
    expect(after.images - before.images).toBeGreaterThanOrEqual(images.length);
    const single: unknown[] = [];
    for (const bytes of images) single.push((await predictImages(member, detectorId, [{ bytes, label: "x" }], params())).images[0].detections);
    expect(together.map((result) => result.images[0].detections)).toEqual(single);
  });

  it("serves a torchvision classifier with the entry's mean/std, softmaxing its logits", async () => {
    await expect(setPreprocessing(viewer, { weightsId: classifierId, preprocessing: IMAGENET })).rejects.toThrow(Forbidden);
    await setPreprocessing(member, { weightsId: classifierId, preprocessing: { ...IMAGENET, output: "logits" } });
    const png = await testImage(32, 32, 4);
    const result = await predictImages(member, classifierId, [{ bytes: png, label: "c.png" }], params({ top_k: 4 }));
    const bare = await bareRun(inferenceFixture("torchvision_classify.onnx"), toNchw(await rawPixels(png), (v, c) => (v / 255 - IMAGENET.mean[c]) / IMAGENET.std[c]), [1, 3, 32, 32]);
    const exp = Array.from(bare.data, (v) => Math.exp(v));
    const sum = exp.reduce((a, b) => a + b, 0);
    const expected = exp.map((v, i) => ({ class_id: i, p: v / sum })).sort((a, b) => b.p - a.p);
    expect(result.task).toBe("classify");
    const top = result.images[0].top_k!;
    expect(top.map((t) => t.class_id)).toEqual(expected.map((e) => e.class_id));
    top.forEach((t, i) => expect(t.confidence).toBeCloseTo(expected[i].p, 5));
    expect((await predictImages(member, classifierId, [{ bytes: png, label: "c.png" }], params({ top_k: 1 }))).images[0].top_k).toHaveLength(1);
  });

  it("exports a studio checkpoint to ONNX once, beside its file, and serves it from the cache after", async () => {
    const ckpt = path.join(work, "tiny.ckpt");
    await writeTinyCheckpoint(ckpt, { epoch: 1, bestEpoch: 1, metrics: {} });
    const entry = await importFile(member, ckpt, "tiny.ckpt");
    const png = await testImage(8, 8);
    const first = await predictImages(member, entry.id, [{ bytes: png, label: "x" }], params());
    const exported = path.join(path.dirname(weightsFilePath(entry.file)), EXPORTED_NAME);
    const { mtimeMs } = await stat(exported);
    const second = await predictImages(member, entry.id, [{ bytes: png, label: "x" }], params());
    expect((await stat(exported)).mtimeMs).toBe(mtimeMs);
    expect(second.images[0].top_k).toEqual(first.images[0].top_k);
    expect(first.images[0].top_k!.map((t) => t.name).sort()).toEqual(["cat", "dog"]);
    expect((await workerCacheStats()).files).toContain(exported);
  });

  it("draws the boxes on the annotated image", async () => {
    const png = await testImage(64, 64);
    const [image] = (await predictImages(member, detectorId, [{ bytes: png, label: "a.png" }], params({ annotate: true }))).images;
    expect(image.annotated_image).toMatch(/^data:image\/jpeg;base64,/);
    const jpeg = Buffer.from(image.annotated_image!.split(",")[1], "base64");
    const drawn = await rawPixels(jpeg);
    const plain = await rawPixels(await sharp(png).jpeg({ quality: 85 }).toBuffer());
    expect(drawn).toMatchObject({ width: 64, height: 64 });
    // Along the left edge of the top box the pixels change; away from every box they do not (beyond JPEG noise).
    const d = image.detections![0];
    const x = Math.min(63, Math.round(d.box.x1));
    const changed = (img: { data: Uint8Array }, other: { data: Uint8Array }, px: number, py: number) => [0, 1, 2].reduce((s, c) => s + Math.abs(img.data[(py * 64 + px) * 3 + c] - other.data[(py * 64 + px) * 3 + c]), 0);
    const y = Math.round((d.box.y1 + d.box.y2) / 2);
    expect(changed(drawn, plain, x, y)).toBeGreaterThan(60);
    const plainAgain = await predictImages(member, detectorId, [{ bytes: png, label: "a.png" }], params());
    expect(plainAgain.images[0].annotated_image).toBeUndefined();
  });

  it("takes plain base64 and data URLs alike", async () => {
    const png = await testImage(64, 64);
    const viaBase64 = await predict(member, { ...params(), weightsId: detectorId, images: [{ base64: png.toString("base64") }] });
    const viaDataUrl = await predict(member, { ...params(), weightsId: detectorId, images: [{ base64: `data:image/png;base64,${png.toString("base64")}` }] });
    const direct = await predictImages(member, detectorId, [{ bytes: png, label: "x" }], params());
    expect(viaBase64.images[0].detections).toEqual(direct.images[0].detections);
    expect(viaDataUrl.images[0].detections).toEqual(direct.images[0].detections);
  });

  it("refuses bad input with a clear reason", async () => {
    const png = await testImage(64, 64);
    await expect(predictImages(member, detectorId, [{ bytes: Buffer.from("not an image at all"), label: "notes.txt" }], params())).rejects.toThrow(/notes\.txt is not an image/);
    await expect(predictImages(member, detectorId, [{ bytes: png.subarray(0, 60), label: "cut.png" }], params())).rejects.toThrow(Invalid);
    expect(() => decodeBase64Image("@@@ not base64 @@@")).toThrow(/not valid base64/);
    await expect(predictImages(member, 999_999, [{ bytes: png, label: "x" }], params())).rejects.toThrow(NotFound);
    await expect(predictImages(outsider, detectorId, [{ bytes: png, label: "x" }], params())).rejects.toThrow(NotFound);
    await expect(predictImages(member, detectorId, [{ bytes: png, label: "x" }], params({ imgsz: 320 }))).rejects.toThrow(/takes 64x64|multiple/);
    const huge = await sharp({ create: { width: 9000, height: 8000, channels: 3, background: "#777" } }).png({ compressionLevel: 9 }).toBuffer();
    await expect(predictImages(member, detectorId, [{ bytes: huge, label: "huge.png" }], params())).rejects.toThrow(TooLarge);
  });
});
