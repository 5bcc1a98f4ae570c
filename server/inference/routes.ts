import { withCaller, type RouteDeps } from "@/server/http/handler";
import { Invalid } from "@/server/errors";
import { parsePathId } from "@/server/http/input";
import { parsePredictParams, predictImages } from "./service";
import { receiveImages } from "./upload";
import { restError } from "@/server/http/rest-error";

/**
 * `POST /api/inference/predict`: the Inference page's upload (multipart `images`, repeatable, with
 * `weights_id` and the predict parameters as fields) → the predict result. Errors as `{detail}`.
 */
export function predictUploadRoute(req: Request, route: RouteDeps = {}): Promise<Response> {
  return withCaller(
    req,
    restError,
    async (ctx) => {
      const { images, fields } = await receiveImages(req);
      const id = fields.weights_id ?? fields.model_id;
      if (!id) throw new Invalid("weights_id is required", { weights_id: ["required"] });
      return Response.json(await predictImages(ctx, parsePathId(id, "Weights"), images, parsePredictParams(fields)));
    },
    { multipart: true, db: route.db },
  );
}
