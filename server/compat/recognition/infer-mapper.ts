import { z } from "zod";
import { parseInput } from "@/server/errors";
import type { PredictResult } from "@/server/inference/schemas";

/**
 * Mapper for the old recognition backend's inference API (seed 003, `/infer`, `/infer/base64`): string
 * model ids (the weights entry's id, as `/models` lists them), `predictions` with `class_id`,
 * `class_name`, `confidence` and for detectors `bbox` [x1, y1, x2, y2] in pixels, `inference_time` in ms.
 */

const modelId = z.union([z.string().trim().min(1).max(200), z.number().int().positive()]).transform(String);

export const base64Body = z.object({
  image: z.string({ error: "image is required (base64 or a data URL)" }).min(1, { error: "image is required (base64 or a data URL)" }),
  model_id: modelId.optional(),
});

export function parseRecognitionBase64(body: unknown): { image: string; modelId: string | undefined; rest: Record<string, unknown> } {
  const parsed = parseInput(base64Body, body);
  return { image: parsed.image, modelId: parsed.model_id, rest: body as Record<string, unknown> };
}

export function recognitionInference(result: PredictResult) {
  const [image] = result.images;
  const predictions = image.detections
    ? image.detections.map((d) => ({ class_id: d.class_id, class_name: d.name, confidence: d.confidence, bbox: [d.box.x1, d.box.y1, d.box.x2, d.box.y2] }))
    : (image.top_k ?? []).map((c) => ({ class_id: c.class_id, class_name: c.name, confidence: c.confidence }));
  return {
    model_id: String(result.model_id),
    task: result.task,
    predictions,
    inference_time: Number((image.speed.preprocess + image.speed.inference + image.speed.postprocess).toFixed(2)),
    image_size: [image.width, image.height],
    provider: result.provider,
    ...(image.annotated_image ? { annotated_image: image.annotated_image } : {}),
  };
}
