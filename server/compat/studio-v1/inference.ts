import { readJson } from "@/server/http/handler";
import { listInferenceDevices } from "@/server/inference/devices";
import { parsePredictParams, predictImages } from "@/server/inference/service";
import { startTeamStream, stopTeamStream } from "@/server/inference/streams";
import { receiveImages } from "@/server/inference/upload";
import { parseV1ModelId, parseV1StreamStart, studioV1Devices, studioV1StreamStatus } from "./inference-mapper";
import { restRoute } from "@/server/http/rest-route";

/** Seed 002 §2.6 (`/api/v1/inference/…`). */

export const v1InferenceDevices = restRoute(async () => Response.json(studioV1Devices(await listInferenceDevices())));

/** Multipart `images` (repeatable; `image`, `file` too) + `model_id` and the predict parameters → boxes, classes, confidences. */
export const v1InferencePredict = restRoute(
  async (ctx, req) => {
    const { images, fields } = await receiveImages(req);
    return Response.json(await predictImages(ctx, parseV1ModelId(fields.model_id), images, parsePredictParams(fields)));
  },
  { multipart: true },
);

/** `{device_id, model_id}` → 201 `{status: "running", …}`: ffmpeg decodes the source and frames are predicted until stop. */
export const v1InferenceStreamStart = restRoute(async (ctx, req) => {
  const input = parseV1StreamStart(await readJson(req));
  const stream = await startTeamStream(ctx, input.deviceId, input.modelId, parsePredictParams(input.rest));
  return Response.json(studioV1StreamStatus("running", { device_id: input.deviceId, model_id: input.modelId, pid: stream.pid }), { status: 201 });
});

/** Releases the team's stream and its camera; stopping nothing is fine too. */
export const v1InferenceStreamStop = restRoute(async (ctx) => Response.json(studioV1StreamStatus("stopped", { was_running: stopTeamStream(ctx) })));
