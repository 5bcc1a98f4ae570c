import { z } from "zod";
import { experimentStatuses } from "@/db/schema/experiments";
import { splitRatiosInput } from "@/server/datasets/schemas";
import { freeText, INT32_MAX, nameText, recordId } from "@/server/http/input";
import { trainConfigSchema } from "@/server/ml/train/config";

const id = recordId;

export const experimentName = nameText(120);
export const experimentStatus = z.enum(experimentStatuses, { error: `status must be one of ${experimentStatuses.join(", ")}` });

/**
 * The engine's hyper-parameters a user sets; the studio decides data, model, augmentation, device
 * and run folder. `command`: an external trainer run in the run folder instead of the engine
 * (administrators only, see command.ts): a command line split like a shell's words, or an argv list.
 * `weights`: the library entry the run starts from.
 */
export const hyperparametersSchema = trainConfigSchema
  .pick({
    imgsz: true,
    epochs: true,
    batch: true,
    optimizer: true,
    lr0: true,
    lrf: true,
    momentum: true,
    nesterov: true,
    weight_decay: true,
    warmup_epochs: true,
    cos_lr: true,
    label_smoothing: true,
    patience: true,
    save_period: true,
    clip_grad: true,
    seed: true,
    cache: true,
    val: true,
    log_every: true,
    pretrained: true,
    mosaic: true,
    close_mosaic: true,
    workers: true,
    micro_batch: true,
  })
  .partial()
  .extend({
    command: z.union([freeText(4000).trim().min(1), z.array(freeText(4000).min(1)).min(1).max(256)]).optional(),
    /** A weights entry of the library to fine-tune from (see server/weights/fine-tune.ts). */
    weights: id.optional(),
  })
  .strict();

export type Hyperparameters = z.infer<typeof hyperparametersSchema>;

const engine = trainConfigSchema.shape;

/**
 * The engine's rules for the hyper-parameters without its defaults, for what is checked only when
 * given: a resume's changes, the old dialects' bodies under their own names (`batch_size` → batch).
 */
export const givenHyperparameters = z
  .object({ epochs: engine.epochs.unwrap(), batch: engine.batch.unwrap(), lr0: engine.lr0.unwrap(), imgsz: engine.imgsz.unwrap(), patience: engine.patience.unwrap() })
  .partial();

/** Defaults the new-experiment form shows: the engine's own. */
export function defaultHyperparameters(): Hyperparameters {
  const parsed = trainConfigSchema.parse({ data: "unused", model: "unused" });
  const keys = Object.keys(hyperparametersSchema.shape).filter((key) => !["command", "pretrained", "imgsz", "weights"].includes(key));
  return Object.fromEntries(keys.map((key) => [key, parsed[key as keyof typeof parsed]])) as Hyperparameters;
}


export const createExperimentInput = z
  .object({
    projectId: id,
    name: experimentName,
    datasetId: id,
    /** A zoo model name, or an architecture id (exactly one). */
    model: nameText(200).optional(),
    architectureId: id.optional(),
    augmentationId: id.nullable().optional(),
    hyperparameters: hyperparametersSchema.default({}),
    device: nameText(40).default("auto"),
    /** Re-split the dataset for this run only (stratified by class, from `splitSeed`); omitted = the dataset's split. */
    splitRatios: splitRatiosInput.nullable().optional(),
    splitSeed: z.number().int().nonnegative().max(INT32_MAX).default(0),
    /** A server folder under the import roots; the completed run's weights and results are copied into it. */
    saveDir: freeText(4096).trim().min(1).optional(),
    /** Queue it at once (the studio form); the old create-then-start dialects pass false. */
    start: z.boolean().default(false),
  })
  .refine((v) => (v.model === undefined) !== (v.architectureId === undefined), {
    message: "choose either a zoo model or an architecture",
    path: ["model"],
  });
export type CreateExperimentInput = z.input<typeof createExperimentInput>;

export const experimentByIdInput = z.object({ id });
export const renameExperimentInput = z.object({ id, name: experimentName });
export const cloneExperimentInput = z.object({ id, name: experimentName.optional() });

/** Settings a resume may change (the rest comes from the checkpoint). */
export const resumeExperimentInput = givenHyperparameters.pick({ epochs: true, lr0: true, patience: true }).extend({ id });

export const listExperimentsInput = z
  .object({
    projectId: id.optional(),
    status: experimentStatus.optional(),
    search: freeText(200).trim().optional(),
    /** A metric name in best_metrics, e.g. val_acc; highest first. */
    sortByMetric: freeText(60).trim().optional(),
    limit: z.number().int().min(1).max(500).default(200),
  })
  .default({ limit: 200 });

export const logsInput = z.object({ id, since: z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER).default(0), limit: z.number().int().min(1).max(5000).default(1000) });
export const compareInput = z.object({ ids: z.array(id).min(2).max(10) });
