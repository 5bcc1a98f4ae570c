/**
 * The predict path (the inference service: its worker thread, decode, letterbox or classifier preprocessing,
 * ONNX Runtime, NMS or top-k, boxes scaled back) against a bare onnxruntime-node session on the same model
 * files and images, in alternating rounds of one run. "bare" decodes and resizes with sharp and runs the
 * session (what a plain onnxruntime-node program does with an image file); "session.run" is the model alone.
 * Models: the zoo's yolov8n (80 classes) at 320 and 640 and resnet18 (10 classes) at 224, exported by the
 * studio's exporter with random weights; images 640×480 JPEGs. One JSON line per case; `ratio` = predict ÷ bare
 * images/s (goal ≥ 0.9). Then a server-side stream of a 640×480 video.
 * Every line carries the load average at its start and end; the first names the threads both sides share.
 *   npm run bench:inference -- [--seconds 1.5] [--rounds 3] [--clients 50] [--only resnet18-224-b1-c50,…] [--no-stream]
 */
import { execFileSync } from "node:child_process";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import * as tf from "@tensorflow/tfjs";
import * as ort from "onnxruntime-node";
import sharp from "sharp";

const { values } = parseArgs({
  options: {
    seconds: { type: "string", default: "1.5" },
    rounds: { type: "string", default: "3" },
    clients: { type: "string", default: "50" },
    only: { type: "string" },
    "no-stream": { type: "boolean", default: false },
  },
});
const SECONDS = Number(values.seconds);
const ROUNDS = Number(values.rounds);
const CLIENTS = Number(values.clients);
const ONLY = values.only ? new Set(values.only.split(",")) : null;
const load = () => os.loadavg().map((v) => +v.toFixed(2));

const work = await mkdtemp(path.join(os.tmpdir(), "bench-inference-"));
const models = path.join(work, "models");
await mkdir(models, { recursive: true });
process.env.STUDIO_DATA_DIR = path.join(work, "data");
process.env.STUDIO_IMPORT_ROOTS = models;

// Imported after the environment is set: env() is read once.
const { startBenchDatabase } = await import("./bench-db");
const { compileGraph } = await import("@/server/ml/graph/index");
const { zooGraph } = await import("@/server/ml/zoo/index");
const { buildDetectModel } = await import("@/server/ml/detect/adapter");
const { exportDetectionOnnx } = await import("@/server/ml/detect/onnx-decode");
const { exportOnnx } = await import("@/server/ml/export/onnx");
const { importWeightsFromPath } = await import("@/server/weights/import");
const { predictImages } = await import("@/server/inference/service");
const { predictParams } = await import("@/server/inference/schemas");
const { closeInferenceWorker, workerCacheStats } = await import("@/server/inference/client");
const { CPU_SESSION_OPTIONS } = await import("@/server/inference/sessions");
const { startInferenceStream } = await import("@/server/inference/streams");
type StreamFrame = import("@/server/inference/streams").StreamFrame;
const { ffmpegAvailable } = await import("@/server/inference/devices");
const { testImage } = await import("@/server/inference/testing");

interface Model {
  name: string;
  imgsz: number;
  file: string;
  weightsId: number;
}

/** A zoo model exported as the Weights page's export does (dynamic batch), imported into the library. */
async function exportModel(db: Awaited<ReturnType<typeof startBenchDatabase>>, name: "yolov8n" | "resnet18", imgsz: number): Promise<Model> {
  const classNames = Array.from({ length: name === "yolov8n" ? 80 : 10 }, (_, i) => `class${i}`);
  let bytes: Uint8Array;
  if (name === "yolov8n") {
    const { model, graph } = buildDetectModel(name, imgsz, classNames, 0);
    bytes = await exportDetectionOnnx(model, graph, { classNames, imgsz, dynamicBatch: true }).finally(() => model.dispose());
  } else {
    const graph = zooGraph(name, { imgsz, numClasses: classNames.length });
    const model = compileGraph(graph, { inputShape: [imgsz, imgsz, 3], seed: 0 });
    bytes = await exportOnnx(model, graph, { task: "classify", classNames, imgsz, dynamicBatch: true }).finally(() => model.dispose());
  }
  const file = path.join(models, `${name}-${imgsz}.onnx`);
  await writeFile(file, bytes);
  const entry = await importWeightsFromPath(db.ctx, { projectId: db.projectId, path: file, description: "", tags: [] });
  return { name, imgsz, file, weightsId: entry.id };
}

/** What a plain onnxruntime-node program does: decode, resize to the input, HWC bytes to NCHW floats, run. */
async function bareTensor(images: Uint8Array[], size: number): Promise<ort.Tensor> {
  const plane = size * size;
  const input = new Float32Array(images.length * 3 * plane);
  await Promise.all(
    images.map(async (bytes, b) => {
      const pixels = await sharp(bytes).removeAlpha().resize(size, size, { fit: "fill" }).raw().toBuffer();
      const base = b * 3 * plane;
      for (let i = 0; i < plane; i++) for (let c = 0; c < 3; c++) input[base + c * plane + i] = pixels[3 * i + c] / 255;
    }),
  );
  return new ort.Tensor("float32", input, [images.length, 3, size, size]);
}

interface Side {
  name: string;
  /** One request of `batch` images; resolves when it is answered. */
  call: () => Promise<void>;
  latencies: number[];
  images: number;
  seconds: number;
}

const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;

/** `clients` callers in parallel, each calling until `seconds` have passed. */
async function runFor(side: Side, batch: number, clients: number): Promise<void> {
  const started = performance.now();
  const deadline = started + SECONDS * 1000;
  await Promise.all(
    Array.from({ length: clients }, async () => {
      while (performance.now() < deadline) {
        const t = performance.now();
        await side.call();
        side.latencies.push(performance.now() - t);
        side.images += batch;
      }
    }),
  );
  side.seconds += (performance.now() - started) / 1000;
}

function figures(side: Side) {
  const sorted = [...side.latencies].sort((a, b) => a - b);
  return { imagesPerSecond: +(side.images / side.seconds).toFixed(1), p50ms: +percentile(sorted, 50).toFixed(1), p99ms: +percentile(sorted, 99).toFixed(1) };
}

async function benchCase(db: Awaited<ReturnType<typeof startBenchDatabase>>, model: Model, images: Uint8Array[], batch: number, clients: number) {
  const session = await ort.InferenceSession.create(model.file, CPU_SESSION_OPTIONS);
  const batchImages = Array.from({ length: batch }, (_, i) => images[i % images.length]);
  const prepared = await bareTensor(batchImages, model.imgsz);
  const params = predictParams.parse({});
  const feed = (tensor: ort.Tensor) => ({ [session.inputNames[0]]: tensor });
  // Where the predict path's time goes, per image, as its answers report it; and how many boxes it kept.
  const split = { preprocess: 0, inference: 0, postprocess: 0, detections: 0, images: 0 };
  const predict = async () => {
    for (const image of (await predictImages(db.ctx, model.weightsId, batchImages.map((bytes, i) => ({ bytes, label: `image ${i + 1}` })), params)).images) {
      split.preprocess += image.speed.preprocess;
      split.inference += image.speed.inference;
      split.postprocess += image.speed.postprocess;
      split.detections += image.detections?.length ?? 0;
      split.images++;
    }
  };
  const loadBefore = load();
  const sides: Side[] = [
    { name: "predict", call: predict, latencies: [], images: 0, seconds: 0 },
    { name: "bare", call: async () => void (await session.run(feed(await bareTensor(batchImages, model.imgsz)))), latencies: [], images: 0, seconds: 0 },
    { name: "sessionRun", call: async () => void (await session.run(feed(prepared))), latencies: [], images: 0, seconds: 0 },
  ];
  for (const side of sides) await side.call();
  // How many images the predict path's session.runs carried each (coalesced requests make it more than `batch`).
  const runs = { runs: 0, images: 0 };
  for (let round = 0; round < ROUNDS; round++) {
    for (const side of round % 2 === 0 ? sides : [...sides].reverse()) {
      const before = side.name === "predict" ? await workerCacheStats() : null;
      await runFor(side, batch, clients);
      if (before) {
        const after = await workerCacheStats();
        runs.runs += after.runs - before.runs;
        runs.images += after.images - before.images;
      }
    }
  }
  await session.release();
  const [ours, bare, sessionRun] = sides.map(figures);
  const mean = (value: number) => +(value / split.images).toFixed(2);
  return {
    model: model.name,
    imgsz: model.imgsz,
    batch,
    clients,
    predict: { ...ours, msPerImage: { preprocess: mean(split.preprocess), inference: mean(split.inference), postprocess: mean(split.postprocess) }, boxesPerImage: mean(split.detections), imagesPerRun: +(runs.images / runs.runs).toFixed(2) },
    bare,
    sessionRun,
    ratio: +(ours.imagesPerSecond / bare.imagesPerSecond).toFixed(3),
    ratioToSessionRun: +(ours.imagesPerSecond / sessionRun.imagesPerSecond).toFixed(3),
    load: { before: loadBefore, after: load() },
  };
}

/**
 * A 640×480 video read by ffmpeg in real time, its newest frame predicted whenever the model is free. Added
 * latency: capture to answer, less the frame's own pre-process + inference + post-process time.
 */
async function benchStream(db: Awaited<ReturnType<typeof startBenchDatabase>>, model: Model) {
  if (!(await ffmpegAvailable())) return { skipped: "ffmpeg is not installed" };
  const video = path.join(models, "stream-640x480.mp4");
  execFileSync("ffmpeg", ["-loglevel", "error", "-y", "-f", "lavfi", "-i", "testsrc=size=640x480:rate=30", "-t", "30", "-pix_fmt", "yuv420p", video]);
  const stream = await startInferenceStream(db.ctx, video, model.weightsId, predictParams.parse({}));
  const latencies: number[] = [];
  const added: number[] = [];
  let first = 0;
  stream.on("frame", (frame: StreamFrame) => {
    first ||= performance.now();
    latencies.push(frame.latencyMs);
    const { preprocess, inference, postprocess } = frame.result.images[0].speed;
    added.push(frame.latencyMs - preprocess - inference - postprocess);
  });
  await new Promise((resolve) => setTimeout(resolve, 2000 + SECONDS * ROUNDS * 1000));
  const seconds = (performance.now() - first) / 1000;
  stream.stop();
  await new Promise((resolve) => stream.once("end", resolve));
  const sorted = latencies.sort((a, b) => a - b);
  return {
    model: model.name,
    imgsz: model.imgsz,
    source: "640x480, read at 15 fps",
    framesPerSecond: +((latencies.length - 1) / seconds).toFixed(1),
    p50ms: +percentile(sorted, 50).toFixed(1),
    addedLatencyMsP50: +percentile(added.sort((a, b) => a - b), 50).toFixed(1),
    droppedFrames: stream.dropped,
  };
}

await tf.setBackend("cpu");
console.log(
  JSON.stringify({
    bench: "inference.threads",
    cores: os.availableParallelism(),
    onnxRuntime: "one CPU session per side, the same options (ONNX Runtime's default intra-op threads: one per physical core)",
    sharpConcurrency: sharp.concurrency(),
    libuvPool: Number(process.env.UV_THREADPOOL_SIZE ?? 4),
    predict: "bench thread → inference thread (decode, letterbox, NMS) → runner thread (session.run)",
    bare: "bench thread (decode with sharp, session.run)",
  }),
);
const db = await startBenchDatabase(work);
try {
  const images = await Promise.all(Array.from({ length: 8 }, async (_, i) => new Uint8Array(await sharp(await testImage(640, 480, i)).jpeg({ quality: 90 }).toBuffer())));
  const yolo320 = await exportModel(db, "yolov8n", 320);
  const yolo640 = await exportModel(db, "yolov8n", 640);
  const resnet = await exportModel(db, "resnet18", 224);
  for (const [model, batch, clients] of [
    [yolo320, 1, 1],
    [yolo320, 8, 1],
    [yolo640, 1, 1],
    [yolo640, 8, 1],
    [resnet, 1, 1],
    [resnet, 8, 1],
    [yolo320, 1, CLIENTS],
    [resnet, 1, CLIENTS],
  ] as const) {
    if (ONLY && !ONLY.has(`${model.name}-${model.imgsz}-b${batch}-c${clients}`)) continue;
    const result = await benchCase(db, model, images, batch, clients);
    console.log(JSON.stringify({ bench: "inference.predict", ...result }));
  }
  if (!values["no-stream"]) console.log(JSON.stringify({ bench: "inference.stream", ...(await benchStream(db, yolo320)) }));
} finally {
  await closeInferenceWorker();
  await db.close();
  await rm(work, { recursive: true, force: true });
}
