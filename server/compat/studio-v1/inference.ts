import { readJson, withCaller, type RouteDeps } from "@/server/http/handler";
import { listInferenceDevices } from "@/server/inference/devices";
import { parsePredictParams, predictImages } from "@/server/inference/service";
import { startTeamStream, stopTeamStream } from "@/server/inference/streams";
import { receiveImages } from "@/server/inference/upload";
import { parseV1ModelId, parseV1StreamStart, studioV1Devices, studioV1StreamStatus } from "./inference-mapper";
import { restError } from "@/server/http/rest-error";

/** Seed 002 §2.6 (`/api/v1/inference/…`). */

export function v1InferenceDevices(req: Request, route: RouteDeps = {}): Promise<Response> {
  return withCaller(req, restError, async () => Response.json(studioV1Devices(await listInferenceDevices())), { db: route.db });
}

/** Multipart `images` (repeatable; `image`, `file` too) + `model_id` and the predict parameters → boxes, classes, confidences. */
export function v1InferencePredict(req: Request, route: RouteDeps = {}): Promise<Response> {
  return withCaller(
    req,
    restError,
    async (ctx) => {
      const { images, fields } = await receiveImages(req);
      return Response.json(await predictImages(ctx, parseV1ModelId(fields.model_id), images, parsePredictParams(fields)));
    },
    { multipart: true, db: route.db },
  );
}

/** `{device_id, model_id}` → 201 `{status: "running", …}`: ffmpeg decodes the source and frames are predicted until stop. */
export function v1InferenceStreamStart(req: Request, route: RouteDeps = {}): Promise<Response> {
  return withCaller(
    req,
    restError,
    async (ctx) => {
      const input = parseV1StreamStart(await readJson(req));
      const stream = await startTeamStream(ctx, input.deviceId, input.modelId, parsePredictParams(input.rest));
      return Response.json(studioV1StreamStatus("running", { device_id: input.deviceId, model_id: input.modelId, pid: stream.pid }), { status: 201 });
    },
    { db: route.db },
  );
}

/** Releases the team's stream and its camera; stopping nothing is fine too. */
export function v1InferenceStreamStop(req: Request, route: RouteDeps = {}): Promise<Response> {
  return withCaller(req, restError, async (ctx) => Response.json(studioV1StreamStatus("stopped", { was_running: stopTeamStream(ctx) })), { db: route.db });
}
