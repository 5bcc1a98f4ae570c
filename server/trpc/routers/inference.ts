import { listInferenceDevices } from "@/server/inference/devices";
import { predictInput, setPreprocessingInput } from "@/server/inference/schemas";
import { predict, setPreprocessing } from "@/server/inference/service";
import { authed, role, router } from "../init";

/** Multipart uploads go through POST /api/inference/predict; webcam frames through /ws/inference/stream. */
export const inferenceRouter = router({
  predict: authed.input(predictInput).mutation(({ ctx, input }) => predict(ctx.svc, input)),
  setPreprocessing: role("member").input(setPreprocessingInput).mutation(({ ctx, input }) => setPreprocessing(ctx.svc, input)),
  devices: authed.query(() => listInferenceDevices()),
});
