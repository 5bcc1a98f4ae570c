// One predict request on ONNX Runtime, inside the inference thread: decode, letterbox or classifier
// preprocessing, session.run in batches (by the runner thread, while the next batch is prepared here), NMS
// or top-k, scale back, optionally draw.

import sharp from "sharp";
import type { ClassifierPreprocessing } from "@/db/schema";
import { Invalid } from "@/server/errors";
import type { RgbImage } from "@/server/ml/data/image";
import { detectionsSvg } from "@/server/ml/detect/annotate";
import type { Detection } from "@/server/ml/detect/nms";
import type { OnnxInfo } from "@/server/ml/io/onnx-info";
import { onnxFileFor, type ModelSpec } from "./onnx-file";
import { detectionResults, imageDetections, topClasses } from "./postprocess";
import { decodeUpload, STUDIO_CLASSIFIER, writeClassifierInput, writeLetterboxed, type ClassifierSettings, type Letterbox } from "./preprocess";
import { RUN_BATCH } from "./run-queue";
import type { ImagePrediction, PredictParams, PredictResult } from "./schemas";
import type { RunOutput, SessionDescription } from "./worker-protocol";

/** The sessions, wherever they run: what a file's session takes, and one run of it. */
export interface ModelRunner {
  describe(file: string): Promise<SessionDescription>;
  run(file: string, input: Float32Array, dims: number[]): Promise<RunOutput>;
}

export interface PredictRequest {
  spec: ModelSpec;
  preprocessing: ClassifierPreprocessing | null;
  images: Uint8Array[];
  /** How each image is named in errors ("image 2", the upload's file name). */
  labels: string[];
  params: PredictParams;
}

export type RunResult = Omit<PredictResult, "model_id">;

interface InputLayout {
  batch: number | null;
  size: [number, number];
}

function inputLayout(described: SessionDescription, task: ModelSpec["task"], spec: ModelSpec, imgsz: number | undefined): InputLayout {
  const meta = described.input;
  const shape = meta?.isTensor ? meta.shape : [];
  const [batch, channels, height, width] = shape;
  if (shape.length !== 4 || (typeof channels === "number" && channels !== 3) || (meta?.isTensor && meta.type !== "float32")) {
    throw new Invalid(`the model's input is ${meta?.isTensor ? `${meta.type} [${shape.join(", ")}]` : "not a tensor"}; inference needs a float32 image input [N, 3, H, W]`, { model: ["input layout"] });
  }
  if (typeof height === "number" && typeof width === "number") {
    if (imgsz !== undefined && (imgsz !== height || imgsz !== width)) throw new Invalid(`imgsz ${imgsz}: the model takes ${height}x${width} images`, { imgsz: [`must be ${height}`] });
    return { batch: typeof batch === "number" ? batch : null, size: [height, width] };
  }
  const stride = described.info.stride ?? 32;
  if (imgsz !== undefined) {
    if (task === "detect" && imgsz % stride !== 0) throw new Invalid(`imgsz ${imgsz} must be a multiple of the model's stride ${stride}`, { imgsz: [`multiple of ${stride}`] });
    return { batch: typeof batch === "number" ? batch : null, size: [imgsz, imgsz] };
  }
  const own = described.info.imgsz ?? (spec.imgsz ? [spec.imgsz, spec.imgsz] : task === "detect" ? [640, 640] : [224, 224]);
  return { batch: typeof batch === "number" ? batch : null, size: [own[0], own[1]] };
}

/** What the entry says, over what the file's origin implies: Ultralytics classifiers centre-crop, the studio's stretch. */
function classifierSettings(info: OnnxInfo, preprocessing: ClassifierPreprocessing | null): ClassifierSettings {
  const ultralytics = /ultralytics/i.test(info.metadata.author ?? "");
  const origin: ClassifierSettings = ultralytics ? { ...STUDIO_CLASSIFIER, resize: "center_crop" } : STUDIO_CLASSIFIER;
  return { ...origin, ...Object.fromEntries(Object.entries(preprocessing ?? {}).filter(([, v]) => v !== undefined)) };
}

/** The output as [batch, 4 + nc, anchors]: Ultralytics' layout as is, the transposed one turned round. */
function detectionOutput(tensor: RunOutput, nc: number | null, batch: number): { data: Float32Array; nc: number; anchors: number } {
  const dims = tensor.dims;
  const data = tensor.data;
  if (tensor.type === "float32" && dims.length === 3 && dims[0] === batch) {
    const channels = nc === null ? dims[1] : 4 + nc;
    if (dims[1] === channels && channels > 4) return { data, nc: channels - 4, anchors: dims[2] };
    if (nc !== null && dims[2] === channels) {
      const anchors = dims[1];
      const out = new Float32Array(data.length);
      for (let b = 0; b < batch; b++) {
        const base = b * anchors * channels;
        for (let a = 0; a < anchors; a++) for (let c = 0; c < channels; c++) out[base + c * anchors + a] = data[base + a * channels + c];
      }
      return { data: out, nc, anchors };
    }
  }
  throw new Invalid(`the model's output ${tensor.type} [${dims.join(", ")}] is not a detection output [N, 4 + ${nc ?? "nc"}, anchors]`, { model: ["output layout"] });
}

async function annotated(img: RgbImage, detections: Detection[], classNames: string[]): Promise<string> {
  const overlay = Buffer.from(detectionsSvg(img.width, img.height, detections, classNames));
  const jpeg = await sharp(img.data, { raw: { width: img.width, height: img.height, channels: 3 } })
    .composite([{ input: overlay, top: 0, left: 0 }])
    .jpeg({ quality: 85 })
    .toBuffer();
  return `data:image/jpeg;base64,${jpeg.toString("base64")}`;
}

const ms = (from: number) => Number((performance.now() - from).toFixed(3));

interface PreparedChunk {
  decoded: RgbImage[];
  boxes: Letterbox[];
  tensor: Float32Array;
  /** ms per image. */
  preprocess: number;
}

export async function runPredict(models: ModelRunner, request: PredictRequest): Promise<RunResult> {
  const { spec, params } = request;
  const file = await onnxFileFor(spec);
  const described = await models.describe(file);
  const task = spec.task;
  const layout = inputLayout(described, task, spec, params.imgsz);
  const classNames = spec.classNames.length > 0 ? spec.classNames : (described.info.names ?? []);
  const settings = task === "classify" ? classifierSettings(described.info, request.preprocessing) : null;
  const [inH, inW] = layout.size;
  const perRun = layout.batch ?? RUN_BATCH;
  const images: ImagePrediction[] = [];

  const prepare = async (start: number): Promise<PreparedChunk> => {
    const chunk = request.images.slice(start, start + perRun);
    const t0 = performance.now();
    const decoded = await Promise.all(chunk.map((bytes, i) => decodeUpload(bytes, request.labels[start + i])));
    const tensor = new Float32Array(perRun === layout.batch ? perRun * 3 * inH * inW : chunk.length * 3 * inH * inW);
    const boxes: Letterbox[] = await Promise.all(
      decoded.map(async (img, i) => {
        if (settings) {
          await writeClassifierInput(img, layout.size, settings, tensor, i);
          return { scale: 1, padX: 0, padY: 0 };
        }
        return writeLetterboxed(img, layout.size, tensor, i);
      }),
    );
    return { decoded, boxes, tensor, preprocess: (performance.now() - t0) / chunk.length };
  };

  let next: Promise<PreparedChunk> | null = prepare(0);
  for (let start = 0; next; start += perRun) {
    const { decoded, boxes, tensor, preprocess } = await next;
    const runBatch = tensor.length / (3 * inH * inW);
    const running = models.run(file, tensor, [runBatch, 3, inH, inW]);
    // The next chunk is prepared while this one runs; its failure, if this run fails first, is not left unheard.
    next = start + perRun < request.images.length ? prepare(start + perRun) : null;
    next?.catch(() => undefined);
    const output = await running;
    // This request's share of the run (which may have carried other requests' images too), per image.
    const inference = (output.runMs * (runBatch / output.runImages)) / decoded.length;
    if (task === "detect") {
      const { data, nc, anchors } = detectionOutput(output, classNames.length > 0 ? classNames.length : null, runBatch);
      const perImage = (4 + nc) * anchors;
      for (let i = 0; i < decoded.length; i++) {
        const img = decoded[i];
        const started = performance.now();
        const found = imageDetections(data.subarray(i * perImage, (i + 1) * perImage), nc, params, boxes[i], img.width, img.height);
        const detections = detectionResults(found, classNames, img.width, img.height);
        const speed = { preprocess: Number(preprocess.toFixed(3)), inference: Number(inference.toFixed(3)), postprocess: ms(started) };
        images.push({ width: img.width, height: img.height, detections, speed, ...(params.annotate ? { annotated_image: await annotated(img, found, classNames) } : {}) });
      }
    } else {
      const nc = output.dims.length === 2 && output.dims[0] === runBatch ? output.dims[1] : -1;
      if (nc < 1 || output.type !== "float32" || (classNames.length > 0 && nc !== classNames.length)) {
        throw new Invalid(`the model's output [${output.dims.join(", ")}] is not class scores [N, ${classNames.length || "nc"}]`, { model: ["output layout"] });
      }
      for (let i = 0; i < decoded.length; i++) {
        const started = performance.now();
        const top = topClasses(output.data.subarray(i * nc, (i + 1) * nc), settings!.output, classNames, params.top_k);
        images.push({ width: decoded[i].width, height: decoded[i].height, top_k: top, speed: { preprocess: Number(preprocess.toFixed(3)), inference: Number(inference.toFixed(3)), postprocess: ms(started) } });
      }
    }
  }
  return { task, provider: described.provider, imgsz: layout.size, images };
}
