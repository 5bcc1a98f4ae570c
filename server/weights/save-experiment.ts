import { createReadStream } from "node:fs";
import { stat } from "node:fs/promises";
import path from "node:path";
import { type Ctx, requireRole } from "@/server/context";
import { Conflict } from "@/server/errors";
import { getExperiment } from "@/server/experiments/queries";
import { CHECKPOINT_EXTENSION } from "@/server/ml/train/checkpoint";
import { importStagedWeights } from "./import";
import type { WeightsView } from "./queries";
import { stageStream } from "./storage";

/**
 * Copies a run's checkpoint (`weights/best.ckpt`, or `last.ckpt`) into its project's library, with
 * lineage: the experiment and epoch, the dataset it trained on, its model, and the validation metrics
 * of that epoch. The run may still be training: checkpoints are replaced atomically, so the copy is
 * one whole checkpoint.
 */
export async function saveExperimentWeights(ctx: Ctx, experimentId: number, opts: { which: "best" | "last"; name?: string }): Promise<WeightsView> {
  requireRole(ctx, "member");
  const experiment = await getExperiment(ctx, experimentId);
  const checkpoint = experiment.runDir ? path.join(experiment.runDir, "weights", `${opts.which}${CHECKPOINT_EXTENSION}`) : null;
  if (!checkpoint || !(await stat(checkpoint).catch(() => null))?.isFile()) {
    throw new Conflict(`Experiment ${experimentId} has no ${opts.which} checkpoint yet: it is written when an epoch ends`, { which: [`no ${opts.which} checkpoint`] });
  }
  const staged = await stageStream(createReadStream(checkpoint));
  return importStagedWeights(
    ctx,
    staged,
    path.basename(checkpoint),
    { projectId: experiment.projectId, name: opts.name ?? `${experiment.name}-${opts.which}`, description: "", tags: [opts.which] },
    (inspection) => ({
      sourceExperimentId: experiment.id,
      sourceEpoch: opts.which === "best" && typeof inspection.details.bestEpoch === "number" ? inspection.details.bestEpoch : inspection.epoch,
      datasetId: experiment.datasetId,
      datasetSplit: "train",
      model: experiment.model ?? inspection.model,
      architectureId: experiment.architectureId,
      metrics: inspection.metrics
        ? { values: inspection.metrics, source: "training", datasetId: experiment.datasetId, split: "val", validatedAt: String(inspection.details.savedAt ?? new Date().toISOString()) }
        : null,
    }),
  );
}
