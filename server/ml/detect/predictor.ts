// One detector interface over a TF.js model and an ONNX file (ours or one exported by Ultralytics): letterbox
// the image, run, decode + NMS (the same nonMaxSuppression for both), map boxes back to the source pixels.

import * as tf from "@tensorflow/tfjs";
import { letterbox, type RgbImage } from "../data/image";
import { loadOnnxSession } from "../onnx/runtime";
import { nonMaxSuppression, type Detection, type NmsOptions } from "./nms";
import { predictDetections, toSourcePixels } from "./predict";

export interface Detector {
  classNames: string[];
  /** Square input size the image is letterboxed to. */
  imgsz: number;
  /** Detections in the pixels of `img`. */
  detect(img: RgbImage, nms?: NmsOptions): Promise<Detection[]>;
  release(): Promise<void>;
}

/** Ultralytics' predict defaults. */
export const PREDICT_DEFAULTS: Required<Pick<NmsOptions, "conf" | "iou" | "maxDet">> = { conf: 0.25, iou: 0.7, maxDet: 300 };

export function tfjsDetector(model: tf.LayersModel, classNames: string[], imgsz: number): Detector {
  return {
    classNames,
    imgsz,
    async detect(img, nms = {}) {
      const boxed = await letterbox(img, imgsz);
      const input = tf.tensor4d(Float32Array.from(boxed.img.data, (v) => v / 255), [1, imgsz, imgsz, 3]);
      try {
        const [detections] = await predictDetections(model, input, classNames.length, { ...PREDICT_DEFAULTS, ...nms });
        return toSourcePixels(detections, boxed, img.width, img.height);
      } finally {
        input.dispose();
      }
    },
    async release() {
      model.dispose();
    },
  };
}

/**
 * Class names from ONNX metadata: ours write JSON ({"0":"cat"}), Ultralytics writes a Python dict
 * ({0: 'cat', 1: "dog's"}). Returns null when the value is neither.
 */
export function parseOnnxNames(value: string | undefined): string[] | null {
  if (!value) return null;
  let entries: [number, string][];
  try {
    const parsed = JSON.parse(value) as unknown;
    if (Array.isArray(parsed)) return parsed.map(String);
    if (!parsed || typeof parsed !== "object") return null;
    entries = Object.entries(parsed as Record<string, unknown>).map(([k, v]) => [Number(k), String(v)]);
  } catch {
    const pattern = /(\d+)\s*:\s*(?:'((?:[^'\\]|\\.)*)'|"((?:[^"\\]|\\.)*)")/g;
    entries = [...value.matchAll(pattern)].map((m) => [Number(m[1]), (m[2] ?? m[3]).replace(/\\(.)/g, "$1")]);
    if (entries.length === 0) return null;
  }
  entries.sort((a, b) => a[0] - b[0]);
  if (entries.some(([k], i) => k !== i)) return null;
  return entries.map(([, name]) => name);
}

/** imgsz metadata: "640", "[640, 640]" or "(640, 640)". */
function parseImgsz(value: string | undefined): number[] {
  return (value?.match(/\d+/g) ?? []).map(Number);
}

/**
 * Opens a YOLOv8-layout detection ONNX file: input [N, 3, H, W] in [0, 1], output0 [N, 4 + nc, anchors]
 * (xywh input pixels, sigmoid scores), class names in metadata "names".
 */
export async function onnxDetector(file: string): Promise<Detector> {
  const session = await loadOnnxSession(file);
  try {
    const task = session.metadata.task;
    if (task && task !== "detect") throw new Error(`${file} is a ${task} model; detection needs a YOLOv8-style detect export`);
    const [, channels, inputH, inputW] = session.inputShape;
    const [metaH, metaW] = parseImgsz(session.metadata.imgsz);
    const height = inputH > 0 ? inputH : metaH;
    const width = inputW > 0 ? inputW : (metaW ?? metaH);
    if (session.inputShape.length !== 4 || (channels > 0 && channels !== 3)) {
      throw new Error(`${file}: input "${session.inputName}" is [${session.inputShape.join(", ")}], expected [N, 3, H, W]`);
    }
    if (!(height > 0) || height !== width) {
      throw new Error(`${file}: needs a square input size (from the input shape or "imgsz" metadata), got ${height}x${width}`);
    }
    const imgsz = height;
    const classNames = parseOnnxNames(session.metadata.names);
    if (!classNames) throw new Error(`${file}: no class names in the metadata ("names"); export it with its class names`);
    return {
      classNames,
      imgsz,
      async detect(img, nms = {}) {
        const boxed = await letterbox(img, imgsz);
        const pixels = boxed.img.data;
        const plane = imgsz * imgsz;
        const input = new Float32Array(3 * plane);
        for (let i = 0; i < plane; i++) {
          input[i] = pixels[3 * i] / 255;
          input[plane + i] = pixels[3 * i + 1] / 255;
          input[2 * plane + i] = pixels[3 * i + 2] / 255;
        }
        const [output] = await session.run(input, [1, 3, imgsz, imgsz]);
        const [, rows, anchors] = output.dims;
        if (output.dims.length !== 3 || !(rows > 4)) {
          throw new Error(`${file}: output is [${output.dims.join(", ")}], expected [N, 4 + classes, anchors]`);
        }
        const numClasses = rows - 4;
        if (numClasses !== classNames.length) throw new Error(`${file}: the metadata names ${classNames.length} classes, the output has ${numClasses}`);
        const [detections] = nonMaxSuppression(output.data, { batch: 1, numClasses, anchors }, { ...PREDICT_DEFAULTS, ...nms });
        return toSourcePixels(detections, boxed, img.width, img.height);
      },
      release: () => session.release(),
    };
  } catch (error) {
    await session.release();
    throw error;
  }
}
