import { deleteWeights, getWeights, importWeightsFromPath, listWeights, saveExperimentWeights, updateWeights } from "@/server/weights/service";
import { importFromPathInput, listWeightsInput, saveExperimentWeightsInput, updateWeightsInput, weightsByIdInput } from "@/server/weights/schemas";
import { exportWeights, exportWeightsInput } from "@/server/weights/export";
import { getValidation, listValidations, listValidationsInput, validateWeights, validateWeightsInput, validationImages } from "@/server/weights/validate";
import { recordId } from "@/server/http/input";
import { z } from "zod";
import { authed, role, router } from "../init";

/** Uploads go through POST /api/weights (multipart, streamed), downloads through GET /api/weights/{id}/download. */
export const weightsRouter = router({
  list: authed.input(listWeightsInput).query(({ ctx, input }) => listWeights(ctx.svc, input)),
  byId: authed.input(weightsByIdInput).query(({ ctx, input }) => getWeights(ctx.svc, input.id)),
  importFromPath: role("member").input(importFromPathInput).mutation(({ ctx, input }) => importWeightsFromPath(ctx.svc, input)),
  update: role("member").input(updateWeightsInput).mutation(({ ctx, input }) => updateWeights(ctx.svc, input)),
  delete: role("member").input(weightsByIdInput).mutation(({ ctx, input }) => deleteWeights(ctx.svc, input.id)),
  saveFromExperiment: role("member")
    .input(saveExperimentWeightsInput)
    .mutation(({ ctx, input }) => saveExperimentWeights(ctx.svc, input.experimentId, { which: input.which, name: input.name })),
  validate: role("member").input(validateWeightsInput).mutation(({ ctx, input }) => validateWeights(ctx.svc, input)),
  validations: authed.input(listValidationsInput).query(({ ctx, input }) => listValidations(ctx.svc, input)),
  validation: authed.input(z.object({ id: recordId })).query(({ ctx, input }) => getValidation(ctx.svc, input.id)),
  validationImages: authed.input(z.object({ id: recordId })).query(({ ctx, input }) => validationImages(ctx.svc, input.id)),
  export: role("member").input(exportWeightsInput).mutation(({ ctx, input }) => exportWeights(ctx.svc, input)),
});
