// The error-analysis faces call these: per-image results of a validation, and the two-model diff.

import type { Ctx } from "@/server/context";
import { DomainError, NotFound } from "@/server/errors";
import { confusionMatrix } from "./predictions";
import { latestValidation } from "./targets";

export { cellImages, confusionMatrix, judgedImage, listPredictions } from "./predictions";
export { diffImages, diffModels } from "./diff";
export { diffMetric } from "./diff-metric";
export { latestValidation } from "./targets";

interface PrCurveDetails {
  precision: number[] | null;
}

/** What the analysis views show of a validation: its settings, metrics, PR curve and the clickable confusion matrix. */
export async function validationSummary(ctx: Ctx, validationId: number) {
  const { validation, labels, matrix } = await confusionMatrix(ctx, validationId);
  const { id, task, split, classNames, status, metrics, datasetId, experimentId, weightsId, images, params, finishedAt } = validation;
  const prCurve = (validation.details?.prCurve as PrCurveDetails | undefined)?.precision ?? null;
  return { id, task, split, classNames, status, metrics, datasetId, experimentId, weightsId, images, conf: params.conf, finishedAt, labels, matrix, prCurve };
}

/**
 * The PR curve of each run's latest completed validation on a split (precision at recall 0, .01 … 1, the
 * mean over classes), or null with the reason when it has none; another team's run is NotFound.
 */
export async function runPrCurves(ctx: Ctx, ids: number[], split: "val" | "test") {
  return Promise.all(
    ids.map(async (id) => {
      try {
        const validation = await latestValidation(ctx, { kind: "experiment", id }, split);
        const precision = (validation.details?.prCurve as PrCurveDetails | undefined)?.precision ?? null;
        return { experimentId: id, name: validation.name, validationId: validation.id, precision, reason: precision ? null : "this validation was recorded before PR curves were kept: validate again" };
      } catch (error) {
        if (!(error instanceof DomainError) || error instanceof NotFound) throw error;
        return { experimentId: id, name: null, validationId: null, precision: null, reason: error.message };
      }
    }),
  );
}
