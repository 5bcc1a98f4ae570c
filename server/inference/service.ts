import { readFile } from "node:fs/promises";
import { and, eq } from "drizzle-orm";
import type { z } from "zod";
import { weights } from "@/db/schema";
import { requireRole, type Ctx } from "@/server/context";
import { getDatasetItem } from "@/server/datasets/service";
import { itemFile } from "@/server/datasets/storage";
import { Conflict, Invalid, NotFound, parseInput, TooLarge } from "@/server/errors";
import { getWeights, type WeightsView } from "@/server/weights/queries";
import { weightsFilePath } from "@/server/weights/storage";
import { runInWorker } from "./client";
import type { ModelSpec } from "./onnx-file";
import { MAX_BATCH, predictInput, predictParams, setPreprocessingInput, type PredictParams, type PredictResult } from "./schemas";

/** Largest image file (upload, base64 or dataset item) one prediction takes. */
export const MAX_IMAGE_BYTES = 25 * 1024 * 1024;

export interface ImageInput {
  bytes: Uint8Array;
  /** Names the image in errors: "image 1", the upload's file name. */
  label: string;
}

function modelSpec(entry: WeightsView): ModelSpec {
  if (entry.status !== "ready") throw new Conflict(`Weights ${entry.id} are ${entry.status === "processing" ? "still being produced" : "failed"}: there is no file to run`, { model_id: [entry.status] });
  if (entry.task !== "detect" && entry.task !== "classify") {
    throw new Invalid(`Weights ${entry.id} are for ${entry.task ? `task ${entry.task}` : "an unknown task"}; inference serves detectors and classifiers`, { model_id: ["unsupported task"] });
  }
  return { file: weightsFilePath(entry.file), format: entry.format, task: entry.task, classNames: entry.classNames, model: entry.model, imgsz: entry.imgsz?.[0] ?? null };
}

/** The team's weights entry `weightsId` run on `images` (one batch) with `params`. */
export async function predictImages(ctx: Ctx, weightsId: number, images: ImageInput[], params: PredictParams): Promise<PredictResult> {
  if (images.length === 0) throw new Invalid("No image was sent", { images: ["required"] });
  if (images.length > MAX_BATCH) throw new Invalid(`At most ${MAX_BATCH} images per request, got ${images.length}`, { images: [`at most ${MAX_BATCH}`] });
  for (const image of images) {
    if (image.bytes.byteLength > MAX_IMAGE_BYTES) throw new TooLarge(`${image.label} is larger than ${MAX_IMAGE_BYTES / 1024 / 1024} MB`, { images: ["too large"] });
    if (image.bytes.byteLength === 0) throw new Invalid(`${image.label} is empty`, { images: ["empty"] });
  }
  const entry = await getWeights(ctx, weightsId);
  const result = await runInWorker({ spec: modelSpec(entry), preprocessing: entry.preprocessing, images: images.map((i) => i.bytes), labels: images.map((i) => i.label), params });
  return { model_id: entry.id, ...result };
}

const BASE64 = /^[A-Za-z0-9+/_-]*={0,2}$/;

/** Plain base64 (standard or URL-safe) or a `data:image/…;base64,` URL. */
export function decodeBase64Image(text: string, label = "image"): ImageInput {
  const body = text.trim().replace(/^data:[\w.+/-]*;base64,/i, "").replace(/\s+/g, "");
  if (body.length === 0 || !BASE64.test(body) || body.length % 4 === 1) throw new Invalid(`${label} is not valid base64`, { image: ["not base64"] });
  if ((body.length * 3) / 4 > MAX_IMAGE_BYTES) throw new TooLarge(`${label} is larger than ${MAX_IMAGE_BYTES / 1024 / 1024} MB`, { image: ["too large"] });
  return { bytes: Buffer.from(body, body.includes("-") || body.includes("_") ? "base64url" : "base64"), label };
}

/** The stored image of a dataset item of the caller's team. */
async function datasetItemImage(ctx: Ctx, datasetId: number, itemId: number): Promise<ImageInput> {
  const item = await getDatasetItem(ctx, datasetId, itemId);
  const bytes = await readFile(itemFile(datasetId, item.path)).catch(() => {
    throw new NotFound(`Image ${itemId} of dataset ${datasetId} has no file on the server`);
  });
  return { bytes, label: `item ${itemId} of dataset ${datasetId}` };
}

/** tRPC's predict: base64 images or dataset items. */
export async function predict(ctx: Ctx, rawInput: z.input<typeof predictInput>): Promise<PredictResult> {
  const { weightsId, images, ...params } = parseInput(predictInput, rawInput);
  const resolved = await Promise.all(images.map((image, i) => ("base64" in image ? decodeBase64Image(image.base64, `image ${i + 1}`) : datasetItemImage(ctx, image.datasetId, image.itemId))));
  return predictImages(ctx, weightsId, resolved, params);
}

/** Sets (or with null clears) how a classifier's input is prepared and its output read. */
export async function setPreprocessing(ctx: Ctx, rawInput: z.input<typeof setPreprocessingInput>): Promise<WeightsView> {
  requireRole(ctx, "member");
  const input = parseInput(setPreprocessingInput, rawInput);
  const entry = await getWeights(ctx, input.weightsId);
  if (entry.task !== "classify") throw new Invalid("Preprocessing settings are for classifiers; detectors are letterboxed", { preprocessing: ["not a classifier"] });
  await ctx.db.update(weights).set({ preprocessing: input.preprocessing, updatedAt: new Date() }).where(and(eq(weights.id, entry.id)));
  return getWeights(ctx, entry.id);
}

const NUMBER_FIELDS = new Set(["conf", "iou", "imgsz", "max_det", "top_k"]);
const BOOLEAN_FIELDS = new Set(["agnostic_nms", "annotate"]);

function coerce(key: string, value: unknown): unknown {
  if (typeof value !== "string") return value;
  const text = value.trim();
  if (NUMBER_FIELDS.has(key)) return text === "" ? undefined : Number(text);
  if (BOOLEAN_FIELDS.has(key)) return ["1", "true", "yes", "on"].includes(text.toLowerCase()) ? true : ["0", "false", "no", "off", ""].includes(text.toLowerCase()) ? false : text;
  if (key === "classes") {
    if (text === "") return undefined;
    if (text.startsWith("[")) {
      try {
        return JSON.parse(text);
      } catch {
        return text;
      }
    }
    return text.split(",").map((c) => Number(c.trim()));
  }
  return value;
}

/** The item 2 parameters from form fields or a JSON body (numbers and flags may come as text); other keys are ignored. */
export function parsePredictParams(source: Record<string, unknown>): PredictParams {
  const known = Object.keys(predictParams.shape);
  const raw = Object.fromEntries(Object.entries(source).filter(([key]) => known.includes(key)).map(([key, value]) => [key, coerce(key, value)]));
  return parseInput(predictParams, raw);
}
