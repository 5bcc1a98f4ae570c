import { readJson } from "@/server/http/handler";
import type { Ctx } from "@/server/context";
import { Invalid } from "@/server/errors";
import { parsePathId } from "@/server/http/input";
import { decodeBase64Image, MAX_IMAGE_BYTES, parsePredictParams, predictImages } from "@/server/inference/service";
import { receiveImages } from "@/server/inference/upload";
import { activeWeightsId, findWeightsByIdOrName } from "@/server/weights/active-model";
import { parseRecognitionBase64, recognitionInference } from "./infer-mapper";
import { restRoute } from "@/server/http/rest-route";

/** Seed 003 (`/infer`): the model is a weights entry of the team, by id or name; none given: the team's active model. */

async function resolveModel(ctx: Ctx, modelId: string | undefined): Promise<number> {
  if (modelId === undefined || modelId === "") {
    const active = await activeWeightsId(ctx);
    if (active === null) throw new Invalid("model_id is required: the team has no active model (POST /models/active)", { model_id: ["required"] });
    return active;
  }
  // An id is checked by the prediction itself; a name must be one of the team's entries.
  if (/^\d+$/.test(modelId)) return parsePathId(modelId, "Model");
  return (await findWeightsByIdOrName(ctx, modelId)).id;
}

/** Multipart `file` (also `image`, `images`) + `model_id`. */
export const inferUpload = restRoute(
  async (ctx, req) => {
    const { images, fields } = await receiveImages(req);
    const result = await predictImages(ctx, await resolveModel(ctx, fields.model_id), images.slice(0, 1), parsePredictParams(fields));
    return Response.json(recognitionInference(result));
  },
  { multipart: true },
);

/** `{image, model_id}`: the image as base64 or a data URL (a body of up to the image cap, not the JSON limit). */
export const inferBase64 = restRoute(async (ctx, req) => {
  const input = parseRecognitionBase64(await readJson(req, Math.ceil((MAX_IMAGE_BYTES * 4) / 3) + 64 * 1024));
  const image = decodeBase64Image(input.image);
  const result = await predictImages(ctx, await resolveModel(ctx, input.modelId), [image], parsePredictParams(input.rest));
  return Response.json(recognitionInference(result));
});
