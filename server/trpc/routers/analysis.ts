import {
  cellImages,
  diffImages,
  diffMetric,
  diffModels,
  judgedImage,
  listPredictions,
  runPrCurves,
  validationSummary,
} from "@/server/analysis/service";
import { cellInput, diffImagesInput, diffInput, diffMetricInput, imageInput, prCurvesInput, predictionsInput, validationInput } from "@/server/analysis/schemas";
import { authed, router } from "../init";

/** Error analysis: a validation's per-image results and confusion matrix, and the per-image diff of two models. */
export const analysisRouter = router({
  summary: authed.input(validationInput).query(({ ctx, input }) => validationSummary(ctx.svc, input.validationId)),
  predictions: authed.input(predictionsInput).query(async ({ ctx, input }) => {
    const { validation, ...page } = await listPredictions(ctx.svc, input);
    return { ...page, classNames: validation.classNames, task: validation.task };
  }),
  cell: authed.input(cellInput).query(({ ctx, input }) => cellImages(ctx.svc, input)),
  image: authed.input(imageInput).query(({ ctx, input }) => judgedImage(ctx.svc, input)),
  diff: authed.input(diffInput).query(async ({ ctx, input }) => {
    // The buckets' images come page by page from diffImages.
    const { buckets: _buckets, classImages: _classImages, ...summary } = await diffModels(ctx.svc, input);
    return summary;
  }),
  diffImages: authed.input(diffImagesInput).query(({ ctx, input }) => diffImages(ctx.svc, input)),
  diffMetric: authed.input(diffMetricInput).query(({ ctx, input }) => diffMetric(ctx.svc, input)),
  prCurves: authed.input(prCurvesInput).query(({ ctx, input }) => runPrCurves(ctx.svc, input.ids, input.split)),
});
