import { z } from "zod";
import { recordId } from "@/server/http/input";

/** Ultralytics' predict defaults. */
export const PREDICT_DEFAULTS = { conf: 0.25, iou: 0.7, maxDet: 300, topK: 5 } as const;

/** The parameters every face takes (snake_case as Ultralytics names them); the model's metadata fills imgsz. */
export const predictParams = z.object({
  conf: z.number().min(0).max(1).default(PREDICT_DEFAULTS.conf),
  iou: z.number().min(0).max(1).default(PREDICT_DEFAULTS.iou),
  imgsz: z.number().int().min(16).max(4096).optional(),
  max_det: z.number().int().min(1).max(10000).default(PREDICT_DEFAULTS.maxDet),
  /** Keep only these class ids. */
  classes: z.array(z.number().int().min(0)).max(10000).optional(),
  agnostic_nms: z.boolean().default(false),
  top_k: z.number().int().min(1).max(1000).default(PREDICT_DEFAULTS.topK),
  /** Also answer the image with the boxes drawn (JPEG, as a data URL). */
  annotate: z.boolean().default(false),
});
export type PredictParams = z.output<typeof predictParams>;

/** Base64 (plain or a data URL) or an item of a dataset; at most this many images per request. */
export const MAX_BATCH = 32;

export const predictInput = predictParams.extend({
  weightsId: recordId,
  images: z
    .array(z.union([z.object({ base64: z.string().min(1) }), z.object({ datasetId: recordId, itemId: recordId })]))
    .min(1, "at least one image")
    .max(MAX_BATCH, `at most ${MAX_BATCH} images`),
});

const triple = z.tuple([z.number(), z.number(), z.number()]);

const classifierPreprocessing = z.object({
  channels: z.enum(["RGB", "BGR"]).optional(),
  mean: triple.optional(),
  std: triple.refine((s) => s.every((v) => v > 0), "std must be > 0").optional(),
  resize: z.enum(["stretch", "center_crop"]).optional(),
  cropFraction: z.number().gt(0).max(1).optional(),
  output: z.enum(["auto", "logits", "probabilities"]).optional(),
});

export const setPreprocessingInput = z.object({ weightsId: recordId, preprocessing: classifierPreprocessing.nullable() });

export interface DetectionResult {
  class_id: number;
  name: string;
  confidence: number;
  /** Corners in the original image's pixels. */
  box: { x1: number; y1: number; x2: number; y2: number };
  /** Centre x, centre y, width, height as fractions of the original image (Ultralytics' boxes.xywhn). */
  xywhn: [number, number, number, number];
}

export interface ClassResult {
  class_id: number;
  name: string;
  confidence: number;
}

export interface ImagePrediction {
  width: number;
  height: number;
  /** Detectors. */
  detections?: DetectionResult[];
  /** Classifiers. */
  top_k?: ClassResult[];
  /** Milliseconds per image, as Ultralytics reports them. */
  speed: { preprocess: number; inference: number; postprocess: number };
  /** `data:image/jpeg;base64,…` when asked for. */
  annotated_image?: string;
}

/** The one answer of every face (the old dialects rename it). */
export interface PredictResult {
  model_id: number;
  task: "detect" | "classify";
  /** The ONNX Runtime execution provider that ran it: "cuda" or "cpu". */
  provider: string;
  /** [height, width] the images were fed at. */
  imgsz: [number, number];
  images: ImagePrediction[];
}
