/**
 * Weights library figures. A 147 MB Ultralytics-style .pt (the outline fixture's pickle, a yolov8x-sized
 * DetectionModel, with its fp16 storages filled in) is imported three ways: uploaded through the multipart
 * path (streamed to disk and hashed on the way), from a server path, and again (stored once). Then its
 * metadata read (central directory + data.pkl) against a full read, a studio checkpoint's header against its
 * full read, and ONNX exports (fp32, fp16) of yolov8n at 320 and resnet18 at 224 from studio checkpoints,
 * each fp32 export then re-validated as its parity report does (ONNX Runtime and the TF.js source, one
 * generated split of 48 images, identical preprocessing), in images/s.
 * One JSON line per figure; peak RSS is sampled every 20 ms.
 *   npm run bench:weights -- [--repeat 5]
 */
import crypto from "node:crypto";
import { createReadStream, createWriteStream } from "node:fs";
import { mkdir, mkdtemp, rm, stat, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { parseArgs } from "node:util";
import * as tf from "@tensorflow/tfjs";
import yazl from "yazl";

const { values } = parseArgs({ options: { repeat: { type: "string", default: "5" } } });
const REPEAT = Number(values.repeat);

const work = await mkdtemp(path.join(os.tmpdir(), "bench-weights-"));
const files = path.join(work, "files");
await mkdir(files, { recursive: true });
process.env.STUDIO_DATA_DIR = path.join(work, "data");
process.env.STUDIO_IMPORT_ROOTS = files;
process.env.STUDIO_UPLOAD_MAX_MB = "1024";

// Imported after the environment is set: env() is read once.
const { startBenchDatabase } = await import("./bench-db");
const { openTorchArchive, readTorchCheckpoint, readTorchMetadata } = await import("@/server/ml/io/torch-zip");
const { TorchTensor, PickleObject } = await import("@/server/ml/io/unpickler");
const { ITEM_BYTES } = await import("@/server/ml/io/torch-storage");
const { openZipArchive } = await import("@/server/ml/io/zip-archive");
const { importWeightsFromPath } = await import("@/server/weights/import");
const { importUploadedWeights } = await import("@/server/weights/upload");
const { inspectWeightsFile } = await import("@/server/weights/inspect");
const { loadTfjsModel, onnxEngineModel, tfjsEngineModel } = await import("@/server/weights/validate-model");
const { validateItems } = await import("@/server/weights/validate-run");
const { PARITY_VALIDATION } = await import("@/server/weights/export-work");
const { writeShapesDataset } = await import("@/server/ml/detect/testing/shapes-dataset");
const { makeShapesImageFolder } = await import("@/server/ml/data/testing/shapes");
const { readDetectDataset } = await import("@/server/ml/data/detect-format");
const { buildDetectModel } = await import("@/server/ml/detect/adapter");
const { exportDetectionOnnx } = await import("@/server/ml/detect/onnx-decode");
const { exportOnnx } = await import("@/server/ml/export/onnx");
const { compileGraph } = await import("@/server/ml/graph/index");
const { zooGraph } = await import("@/server/ml/zoo/index");
const { readCheckpoint, readCheckpointHeader, saveCheckpoint, disposeContents } = await import("@/server/ml/train/checkpoint");

const PARITY_IMAGES = 48;

type ValidationItem = import("@/server/weights/validate-run").ValidationItem;

/** Generated splits of PARITY_IMAGES images each, as a dataset's stored items would list them. */
async function paritySplits(root: string): Promise<Record<"detect" | "classify", ValidationItem[]>> {
  const detectRoot = path.join(root, "detect");
  await writeShapesDataset(detectRoot, { train: 1, val: PARITY_IMAGES, seed: 6, classes: 3, minSize: 48, maxSize: 96 });
  const index = await readDetectDataset(detectRoot, { seed: 0 });
  const detect = index.items
    .filter((item) => item.split === "val")
    .map((item) => ({ id: null, file: item.path, path: path.relative(detectRoot, item.path), width: item.width ?? 0, height: item.height ?? 0, boxes: item.boxes }));
  const shapes = await makeShapesImageFolder(path.join(root, "classify"), { classes: 6, perClass: PARITY_IMAGES / 6, size: 64, seed: 3, layout: "flat" });
  const classify = shapes.files.map((file) => ({ id: null, file: file.path, path: path.basename(file.path), width: 64, height: 64, label: file.label }));
  return { detect, classify };
}

const FIXTURE = path.resolve(import.meta.dirname, "../ml/io/fixtures/outline_yolov8x_like.pt");
const MB = 1024 * 1024;

/** Runs `work`, sampling RSS; answers its seconds and the peak RSS above where it started. */
async function measured<T>(work: () => Promise<T>): Promise<{ value: T; seconds: number; peakRssMB: number; rssGrowthMB: number }> {
  global.gc?.();
  const baseline = process.memoryUsage().rss;
  let peak = baseline;
  const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 20);
  const started = performance.now();
  try {
    const value = await work();
    return { value, seconds: (performance.now() - started) / 1000, peakRssMB: Math.round(peak / MB), rssGrowthMB: Math.round((peak - baseline) / MB) };
  } finally {
    clearInterval(sampler);
  }
}

/** The median of `REPEAT` timed runs, in ms. */
async function medianMs(run: () => Promise<unknown>): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < REPEAT; i++) {
    const started = performance.now();
    await run();
    times.push(performance.now() - started);
  }
  return +times.sort((a, b) => a - b)[Math.floor(times.length / 2)].toFixed(1);
}

/** Every storage the pickle's tensors view, by key. */
function storagesOf(root: unknown): Map<string, { numel: number; bytes: number }> {
  const found = new Map<string, { numel: number; bytes: number }>();
  const seen = new Set<unknown>();
  const walk = (value: unknown) => {
    if (value === null || typeof value !== "object" || seen.has(value)) return;
    seen.add(value);
    if (value instanceof TorchTensor) found.set(value.storage.key, { numel: value.storage.numel, bytes: value.storage.numel * ITEM_BYTES[value.storage.dtype] });
    else if (value instanceof Map) [...value.values()].forEach(walk);
    else if (Array.isArray(value) || value instanceof Set) [...value].forEach(walk);
    else if (value instanceof PickleObject) [value.args, value.state].forEach(walk);
  };
  walk(root);
  return found;
}

/** The outline fixture with every storage present (random fp16 bytes), as torch.save would have written it. */
async function largeCheckpoint(target: string): Promise<number> {
  const archive = await openTorchArchive(FIXTURE);
  const storages = storagesOf(archive.root);
  archive.close();
  const source = await openZipArchive(FIXTURE, { maxEntries: 100, maxEntryBytes: 64 * MB, maxTotalBytes: 64 * MB, maxExpansion: null });
  const zip = new yazl.ZipFile();
  const written = pipeline(zip.outputStream, createWriteStream(target));
  for (const [name, entry] of source.entries) if (!name.includes("/data/")) zip.addBuffer(Buffer.from(await source.read(entry)), name, { compress: false });
  source.close();
  for (const [key, { bytes }] of storages) zip.addBuffer(crypto.randomBytes(bytes), `outline_yolov8x_like/data/${key}`, { compress: false });
  zip.end();
  await written;
  return (await stat(target)).size;
}

/** The page's upload: a multipart body streamed from the file, never held whole. */
function uploadRequest(file: string, projectId: number): Request {
  const boundary = `----bench${crypto.randomUUID()}`;
  const head = `--${boundary}\r\nContent-Disposition: form-data; name="project_id"\r\n\r\n${projectId}\r\n--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="yolov8x-like.pt"\r\nContent-Type: application/octet-stream\r\n\r\n`;
  async function* body() {
    yield Buffer.from(head);
    for await (const chunk of createReadStream(file, { highWaterMark: MB })) yield chunk as Buffer;
    yield Buffer.from(`\r\n--${boundary}--\r\n`);
  }
  return new Request("http://bench/api/weights", {
    method: "POST",
    headers: { "content-type": `multipart/form-data; boundary=${boundary}` },
    body: Readable.toWeb(Readable.from(body())) as ReadableStream,
    duplex: "half",
  } as RequestInit);
}

const print = (figure: Record<string, unknown>) => console.log(JSON.stringify({ bench: "weights", ...figure }));

await tf.setBackend("cpu");
const db = await startBenchDatabase(work);
try {
  const big = path.join(files, "yolov8x-like.pt");
  const bytes = await largeCheckpoint(big);
  const sizeMB = +(bytes / MB).toFixed(1);

  const upload = await measured(() => importUploadedWeights(db.ctx, uploadRequest(big, db.projectId)));
  print({ figure: "import.upload", fileMB: sizeMB, seconds: +upload.seconds.toFixed(2), MBps: Math.round(sizeMB / upload.seconds), peakRssMB: upload.peakRssMB, rssGrowthMB: upload.rssGrowthMB, parameters: upload.value.details.parameters });
  await rm(path.join(work, "data", "weights"), { recursive: true, force: true });
  const fromPath = await measured(() => importWeightsFromPath(db.ctx, { projectId: db.projectId, path: big, name: "from-path", description: "", tags: [] }));
  print({ figure: "import.path", fileMB: sizeMB, seconds: +fromPath.seconds.toFixed(2), MBps: Math.round(sizeMB / fromPath.seconds), peakRssMB: fromPath.peakRssMB, rssGrowthMB: fromPath.rssGrowthMB });
  const again = await measured(() => importWeightsFromPath(db.ctx, { projectId: db.projectId, path: big, name: "again", description: "", tags: [] }));
  print({ figure: "import.same_content_again", seconds: +again.seconds.toFixed(2), storedOnce: again.value.file === fromPath.value.file });
  const hashing = await measured(async () => {
    const hash = crypto.createHash("sha256");
    for await (const chunk of createReadStream(big, { highWaterMark: MB })) hash.update(chunk as Buffer);
    return hash.digest("hex");
  });
  print({ figure: "sha256.alone", fileMB: sizeMB, MBps: Math.round(sizeMB / hashing.seconds) });

  const metadataMs = await medianMs(() => readTorchMetadata(big));
  const inspectMs = await medianMs(() => inspectWeightsFile(big, "yolov8x-like.pt"));
  const full = await measured(() => readTorchCheckpoint(big));
  print({ figure: "pt.metadata_read", fileMB: sizeMB, metadataMs, inspectMs, fullReadMs: Math.round(full.seconds * 1000), fullReadRssGrowthMB: full.rssGrowthMB, tensors: full.value.tensors.size });

  const splits = await paritySplits(path.join(work, "parity"));

  for (const [name, imgsz] of [
    ["yolov8n", 320],
    ["resnet18", 224],
  ] as const) {
    const classNames = Array.from({ length: name === "yolov8n" ? 80 : 10 }, (_, i) => `class${i}`);
    const task = name === "yolov8n" ? "detect" : "classify";
    const graph = zooGraph(name, { imgsz, numClasses: classNames.length });
    const model = name === "yolov8n" ? buildDetectModel(name, imgsz, classNames, 0).model : compileGraph(graph, { inputShape: [imgsz, imgsz, 3], seed: 0 });
    const ckpt = path.join(files, `${name}-${imgsz}.ckpt`);
    const progress = { epoch: 2, step: 0, running: {}, trainSeconds: 0, bestFitness: null, bestEpoch: 1 };
    await saveCheckpoint(ckpt, { model, task, classNames, inputShape: [imgsz, imgsz, 3], graph, progress, seed: 0, config: { model: name } });
    model.dispose();
    const headerMs = await medianMs(() => readCheckpointHeader(ckpt));
    const fullMs = await medianMs(async () => disposeContents(await readCheckpoint(ckpt)));
    print({ figure: "ckpt.header_read", model: name, fileMB: +((await stat(ckpt)).size / MB).toFixed(1), headerMs, fullReadMs: fullMs });
    for (const half of [false, true]) {
      const exported = await measured(async () => {
        const loaded = await loadTfjsModel({ file: ckpt, format: "ckpt", task, classNames, model: name, imgsz });
        try {
          const options = { classNames, imgsz, dynamicBatch: true, half };
          return task === "detect" ? await exportDetectionOnnx(loaded.model, loaded.graph!, options) : await exportOnnx(loaded.model, loaded.graph!, { ...options, task });
        } finally {
          loaded.model.dispose();
        }
      });
      print({ figure: "export.onnx", model: name, imgsz, precision: half ? "fp16" : "fp32", seconds: +exported.seconds.toFixed(2), onnxMB: +(exported.value.byteLength / MB).toFixed(1), peakRssMB: exported.peakRssMB });
      if (half) continue;
      // The parity report's re-validation: both sides on the same split, the same decode and letterbox.
      const onnxFile = path.join(files, `${name}-${imgsz}.onnx`);
      await writeFile(onnxFile, exported.value);
      const items = splits[task];
      const onnx = await onnxEngineModel(onnxFile, task, classNames, "cpu");
      const source = tfjsEngineModel(await loadTfjsModel({ file: ckpt, format: "ckpt", task, classNames, model: name, imgsz }), task, classNames, "tfjs-cpu");
      try {
        const onnxSide = await measured(() => validateItems(onnx, items, PARITY_VALIDATION));
        const sourceSide = await measured(() => validateItems(source, items, PARITY_VALIDATION));
        const perSecond = (seconds: number) => +(items.length / seconds).toFixed(1);
        print({ figure: "parity.validation", model: name, imgsz, images: items.length, batch: PARITY_VALIDATION.batch, onnxImagesPerS: perSecond(onnxSide.seconds), tfjsImagesPerS: perSecond(sourceSide.seconds), onnxSeconds: +onnxSide.seconds.toFixed(2), tfjsSeconds: +sourceSide.seconds.toFixed(2) });
      } finally {
        await onnx.release();
        await source.release();
      }
    }
  }
} finally {
  await db.close();
  await rm(work, { recursive: true, force: true });
}
