import { z } from "zod";
import { Invalid, NotFound, parseInput } from "@/server/errors";
import { parsePathId } from "@/server/http/input";
import type { InferenceDevices } from "@/server/inference/devices";

/**
 * Mapper for seed 002 §2.6 and §3.3 (`/api/v1/inference/…`, `/ws/inference/stream`): models are weights
 * entries, named by their integer id or as the document's examples do (`"w1"`); answers are the studio's
 * predict result as it is (boxes, classes, confidences); errors `{detail}` with its status codes.
 */

/** `1`, `"1"` or `"w1"` → 1; missing is a 400, anything else names no model (404). */
export function parseV1ModelId(value: unknown, field = "model_id"): number {
  if (value === undefined || value === null || value === "") throw new Invalid(`${field} is required`, { [field]: ["required"] });
  const text = String(value).trim().replace(/^w/i, "");
  try {
    return parsePathId(text, "Model");
  } catch {
    throw new NotFound(`Model ${String(value)} not found`);
  }
}

export const streamStartBody = z.object({
  device_id: z.union([z.string().trim().min(1), z.number().int().min(0)], { error: "device_id is required" }).transform(String),
  model_id: z.union([z.string(), z.number()], { error: "model_id is required" }),
});

export function parseV1StreamStart(body: unknown): { deviceId: string; modelId: number; rest: Record<string, unknown> } {
  const parsed = parseInput(streamStartBody, body);
  return { deviceId: parsed.device_id, modelId: parseV1ModelId(parsed.model_id), rest: body as Record<string, unknown> };
}

/** The devices list: cameras, stream sources and compute devices, each with the id `stream/start` takes. */
export function studioV1Devices(devices: InferenceDevices) {
  return {
    cameras: devices.cameras.map((c) => ({ id: c.id, name: `Camera ${c.id}`, path: c.path, type: "camera" })),
    sources: devices.sources.map((s) => ({ id: s.id, name: s.path.split("/").pop(), path: s.path, type: s.kind })),
    compute: devices.compute,
    ffmpeg: devices.ffmpeg,
  };
}

export function studioV1StreamStatus(status: "running" | "stopped", extra: Record<string, unknown> = {}) {
  return { status, ...extra };
}
