// One predict request on ONNX Runtime, inside the inference worker thread: decode, letterbox or classifier
// preprocessing, session.run in batches, NMS or top-k, scale back, optionally draw.

import sharp from "sharp";
import * as ort from "onnxruntime-node";
import type { ClassifierPreprocessing } from "@/db/schema";
import { Invalid } from "@/server/errors";
import type { RgbImage } from "@/server/ml/data/image";
import { detectionsSvg } from "@/server/ml/detect/annotate";
import type { Detection } from "@/server/ml/detect/nms";
import { onnxFileFor, type ModelSpec } from "./onnx-file";
import { detectionResults, imageDetections, topClasses } from "./postprocess";
import { decodeUpload, STUDIO_CLASSIFIER, writeClassifierInput, writeLetterboxed, type ClassifierSettings, type Letterbox } from "./preprocess";
import type { ImagePrediction, PredictParams, PredictResult } from "./schemas";
import type { CachedSession, SessionCache } from "./sessions";

export interface PredictRequest {
  spec: ModelSpec;
  preprocessing: ClassifierPreprocessing | null;
  images: Uint8Array[];
  /** How each image is named in errors ("image 2", the upload's file name). */
  labels: string[];
  params: PredictParams;
}

export type RunResult = Omit<PredictResult, "model_id">;

/** Biggest batch handed to one session.run, so a large request never needs one huge tensor. */
const RUN_BATCH = 8;

interface InputLayout {
  batch: number | null;
  size: [number, number];
}

function inputLayout(cached: CachedSession, task: ModelSpec["task"], spec: ModelSpec, imgsz: number | undefined): InputLayout {
  const meta = cached.session.inputMetadata[0];
  const shape = meta?.isTensor ? meta.shape : [];
  const [batch, channels, height, width] = shape;
  if (shape.length !== 4 || (typeof channels === "number" && channels !== 3) || (meta.isTensor && meta.type !== "float32")) {
    throw new Invalid(`the model's input is ${meta?.isTensor ? `${meta.type} [${shape.join(", ")}]` : "not a tensor"}; inference needs a float32 image input [N, 3, H, W]`, { model: ["input layout"] });
  }
  if (typeof height === "number" && typeof width === "number") {
    if (imgsz !== undefined && (imgsz !== height || imgsz !== width)) throw new Invalid(`imgsz ${imgsz}: the model takes ${height}x${width} images`, { imgsz: [`must be ${height}`] });
    return { batch: typeof batch === "number" ? batch : null, size: [height, width] };
  }
  const stride = cached.info.stride ?? 32;
  if (imgsz !== undefined) {
    if (task === "detect" && imgsz % stride !== 0) throw new Invalid(`imgsz ${imgsz} must be a multiple of the model's stride ${stride}`, { imgsz: [`multiple of ${stride}`] });
    return { batch: typeof batch === "number" ? batch : null, size: [imgsz, imgsz] };
  }
  const own = cached.info.imgsz ?? (spec.imgsz ? [spec.imgsz, spec.imgsz] : task === "detect" ? [640, 640] : [224, 224]);
  return { batch: typeof batch === "number" ? batch : null, size: [own[0], own[1]] };
}

/** What the entry says, over what the file's origin implies: Ultralytics classifiers centre-crop, the studio's stretch. */
function classifierSettings(cached: CachedSession, preprocessing: ClassifierPreprocessing | null): ClassifierSettings {
  const ultralytics = /ultralytics/i.test(cached.info.metadata.author ?? "");
  const origin: ClassifierSettings = ultralytics ? { ...STUDIO_CLASSIFIER, resize: "center_crop" } : STUDIO_CLASSIFIER;
  return { ...origin, ...Object.fromEntries(Object.entries(preprocessing ?? {}).filter(([, v]) => v !== undefined)) };
}

/** The output as [batch, 4 + nc, anchors]: Ultralytics' layout as is, the transposed one turned round. */
function detectionOutput(tensor: ort.Tensor, nc: number | null, batch: number): { data: Float32Array; nc: number; anchors: number } {
  const dims = tensor.dims;
  const data = tensor.data as Float32Array;
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

export async function runPredict(cache: SessionCache, request: PredictRequest): Promise<RunResult> {
  const { spec, params } = request;
  const cached = await cache.get(await onnxFileFor(spec));
  const task = spec.task;
  const layout = inputLayout(cached, task, spec, params.imgsz);
  const classNames = spec.classNames.length > 0 ? spec.classNames : (cached.info.names ?? []);
  const settings = task === "classify" ? classifierSettings(cached, request.preprocessing) : null;
  const [inH, inW] = layout.size;
  const perRun = layout.batch ?? RUN_BATCH;
  const images: ImagePrediction[] = [];

  for (let start = 0; start < request.images.length; start += perRun) {
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
    const runBatch = tensor.length / (3 * inH * inW);
    const t1 = performance.now();
    const session = cached.session;
    let results: ort.InferenceSession.OnnxValueMapType;
    try {
      results = await session.run({ [session.inputNames[0]]: new ort.Tensor("float32", tensor, [runBatch, 3, inH, inW]) });
    } catch (error) {
      throw new Invalid(`the model cannot take a ${inH}x${inW} input: ${(error as Error).message.split("\n")[0]}`, { imgsz: ["not accepted by the model"] });
    }
    const inference = ms(t1) / chunk.length;
    const output = results[session.outputNames[0]] as ort.Tensor;
    const preprocess = (t1 - t0) / chunk.length;
    if (task === "detect") {
      const { data, nc, anchors } = detectionOutput(output, classNames.length > 0 ? classNames.length : null, runBatch);
      const perImage = (4 + nc) * anchors;
      for (let i = 0; i < chunk.length; i++) {
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
      const data = output.data as Float32Array;
      for (let i = 0; i < chunk.length; i++) {
        const started = performance.now();
        const top = topClasses(data.subarray(i * nc, (i + 1) * nc), settings!.output, classNames, params.top_k);
        images.push({ width: decoded[i].width, height: decoded[i].height, top_k: top, speed: { preprocess: Number(preprocess.toFixed(3)), inference: Number(inference.toFixed(3)), postprocess: ms(started) } });
      }
    }
  }
  return { task, provider: cached.provider, imgsz: layout.size, images };
}
