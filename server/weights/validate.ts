import { stat } from "node:fs/promises";
import { and, desc, eq, type SQL } from "drizzle-orm";
import { z } from "zod";
import { experiments, projects, validationPredictions, validations, type ValidationParams } from "@/db/schema";
import { type Ctx, requireRole } from "@/server/context";
import { getDataset } from "@/server/datasets/queries";
import { Conflict, Invalid, NotFound, parseInput, Unavailable } from "@/server/errors";
import { getExperiment } from "@/server/experiments/queries";
import { recordId } from "@/server/http/input";
import { enqueue, type QueueDeps } from "@/server/jobs/enqueue";
import { parseDevice } from "@/server/ml/backend/index";
import { readCheckpointHeader } from "@/server/ml/train/checkpoint";
import { getWeights } from "./queries";
import { experimentCheckpoint, loadSplitItems } from "./validation-inputs";

export const validationDevice = z
  .string()
  .trim()
  .max(40)
  .default("auto")
  .refine((value) => {
    try {
      parseDevice(value);
      return true;
    } catch {
      return false;
    }
  }, "not a device: auto, cpu, wasm, gpu, cuda:N");

/** Ultralytics' val arguments; exactly one of weightsId and experimentId names what is validated. */
export const validateWeightsInput = z.object({
  weightsId: recordId.optional(),
  experimentId: recordId.optional(),
  /** Default: the dataset the weights (or the run) were trained on. */
  datasetId: recordId.optional(),
  split: z.enum(["val", "test"]).default("val"),
  /** Default: the model's own input size. */
  imgsz: z.number().int().min(8).max(2048).optional(),
  batch: z.number().int().min(1).max(256).default(16),
  conf: z.number().min(0).max(1).default(0.001),
  iou: z.number().gt(0).max(1).default(0.7),
  device: validationDevice,
  saveJson: z.boolean().default(false),
  plots: z.boolean().default(true),
});
export type ValidateWeightsInput = z.input<typeof validateWeightsInput>;

export const listValidationsInput = z.object({ weightsId: recordId.optional(), experimentId: recordId.optional(), limit: z.number().int().min(1).max(200).default(20) });

export type ValidationRow = typeof validations.$inferSelect;

interface Target {
  projectId: number;
  weightsId: number | null;
  experimentId: number | null;
  task: "classify" | "detect";
  classNames: string[];
  datasetId: number | null;
  imgsz: number | null;
  /** The run whose own split the dataset is read with, when it has one. */
  run: { datasetId: number | null; splitRatios: NonNullable<ValidationParams["resplit"]>["ratios"] | null; splitSeed: number } | null;
}

const isTask = (task: string | null): task is "classify" | "detect" => task === "classify" || task === "detect";

async function weightsTarget(ctx: Ctx, id: number): Promise<Target> {
  const entry = await getWeights(ctx, id);
  if (entry.status !== "ready") throw new Conflict(`Weights ${id} are ${entry.status}: there is no file to validate`, { weightsId: [entry.status] });
  if (!isTask(entry.task)) throw new Invalid(`Weights ${id} are for task ${entry.task ?? "unknown"}; the studio validates detect and classify weights`, { weightsId: [`task ${entry.task ?? "unknown"}`] });
  if (entry.classNames.length === 0) throw new Invalid(`Weights ${id} name no classes, so their outputs cannot be matched to a dataset's`, { weightsId: ["no class names"] });
  const run = entry.sourceExperimentId ? await ctx.db.select().from(experiments).where(eq(experiments.id, entry.sourceExperimentId)).then((rows) => rows[0] ?? null) : null;
  return { projectId: entry.projectId, weightsId: entry.id, experimentId: null, task: entry.task, classNames: entry.classNames, datasetId: entry.datasetId, imgsz: entry.imgsz?.[0] ?? null, run };
}

async function experimentTarget(ctx: Ctx, id: number): Promise<Target> {
  const experiment = await getExperiment(ctx, id);
  const checkpoint = experiment.runDir ? experimentCheckpoint(experiment.runDir) : null;
  if (!checkpoint || !(await stat(checkpoint).catch(() => null))?.isFile()) {
    throw new Conflict(`Experiment ${id} has no best checkpoint yet: it is written when an epoch ends`, { experimentId: ["no checkpoint"] });
  }
  const header = await readCheckpointHeader(checkpoint);
  return { projectId: experiment.projectId, weightsId: null, experimentId: id, task: header.task, classNames: header.classNames, datasetId: experiment.datasetId, imgsz: header.inputShape[0], run: experiment };
}

/**
 * Checks everything that can be checked before any work (what is validated, the dataset's task and
 * classes, the split's images), then queues the validation job; answers the queued row.
 */
export async function validateWeights(ctx: Ctx, rawInput: ValidateWeightsInput, deps: QueueDeps = {}): Promise<ValidationRow> {
  requireRole(ctx, "member");
  const input = parseInput(validateWeightsInput, rawInput);
  if ((input.weightsId === undefined) === (input.experimentId === undefined)) {
    throw new Invalid("Name exactly one of weightsId and experimentId", { weightsId: ["exactly one of weightsId, experimentId"] });
  }
  const target = input.weightsId !== undefined ? await weightsTarget(ctx, input.weightsId) : await experimentTarget(ctx, input.experimentId!);
  const datasetId = input.datasetId ?? target.datasetId;
  if (datasetId === null) throw new Invalid("These weights name no dataset they were trained on: choose one (datasetId)", { datasetId: ["required"] });
  const dataset = await getDataset(ctx, datasetId);
  if (dataset.status !== "ready") throw new Conflict(`Dataset ${dataset.name} is not ready (status ${dataset.status})`, { datasetId: [`status ${dataset.status}`] });
  if (dataset.task !== target.task) throw new Invalid(`Dataset ${dataset.name} is a ${dataset.task} dataset; the weights are for ${target.task}`, { datasetId: [`a ${dataset.task} dataset`] });
  if (dataset.classes.join("\u0000") !== target.classNames.join("\u0000")) {
    throw new Invalid(`Dataset ${dataset.name}'s classes [${dataset.classes.join(", ")}] are not the weights' classes [${target.classNames.join(", ")}]`, { datasetId: ["classes differ"] });
  }
  const imgsz = input.imgsz ?? target.imgsz ?? (target.task === "detect" ? 640 : 224);
  if (target.task === "detect" && imgsz % 32 !== 0) throw new Invalid(`imgsz ${imgsz}: detection needs a multiple of 32`, { imgsz: ["a multiple of 32"] });
  const run = target.run;
  const resplit = run?.splitRatios && run.datasetId === datasetId ? { ratios: run.splitRatios, seed: run.splitSeed } : null;
  const items = await loadSplitItems(ctx.db, datasetId, input.split, resplit);
  if (items.length === 0) throw new Invalid(`Dataset ${dataset.name} has no ${input.split} images`, { split: [`no ${input.split} images`] });

  const params: ValidationParams = { imgsz, batch: input.batch, conf: input.conf, iou: input.iou, device: input.device, saveJson: input.saveJson, plots: input.plots, resplit };
  return ctx.db.transaction(async (tx) => {
    const [row] = await tx
      .insert(validations)
      .values({ projectId: target.projectId, weightsId: target.weightsId, experimentId: target.experimentId, datasetId, split: input.split, task: target.task, classNames: target.classNames, params, createdBy: ctx.caller.userId })
      .returning();
    await enqueue("weights.validate", { validationId: row.id }, { tx, boss: deps.boss });
    return row;
  });
}

/** A validation of the caller's team, or NotFound. */
export async function getValidation(ctx: Ctx, id: number): Promise<ValidationRow> {
  const [row] = await ctx.db
    .select({ validation: validations })
    .from(validations)
    .innerJoin(projects, eq(projects.id, validations.projectId))
    .where(and(eq(validations.id, id), eq(projects.teamId, ctx.caller.teamId)));
  if (!row) throw new NotFound(`Validation ${id} not found`);
  return row.validation;
}

/** Latest first: of a weights entry (with its exports' parity runs left out) or an experiment. */
export async function listValidations(ctx: Ctx, input: z.input<typeof listValidationsInput>): Promise<ValidationRow[]> {
  const { weightsId, experimentId, limit } = parseInput(listValidationsInput, input);
  const where: SQL[] = [eq(projects.teamId, ctx.caller.teamId)];
  if (weightsId !== undefined) where.push(eq(validations.weightsId, weightsId));
  if (experimentId !== undefined) where.push(eq(validations.experimentId, experimentId));
  const rows = await ctx.db
    .select({ validation: validations })
    .from(validations)
    .innerJoin(projects, eq(projects.id, validations.projectId))
    .where(and(...where))
    .orderBy(desc(validations.id))
    .limit(limit);
  return rows.map((row) => row.validation);
}

/** The per-image predictions of a validation of the caller's team. */
export async function validationImages(ctx: Ctx, id: number) {
  await getValidation(ctx, id);
  return ctx.db.select().from(validationPredictions).where(eq(validationPredictions.validationId, id)).orderBy(validationPredictions.id);
}

/** Waits for a queued validation to end (for clients that expect the answer in the response). */
export async function waitForValidation(ctx: Ctx, id: number, timeoutMs: number, pollMs = 500): Promise<ValidationRow> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const row = await getValidation(ctx, id);
    if (row.status === "completed" || row.status === "failed") return row;
    if (Date.now() > deadline) {
      throw new Unavailable(`Validation ${id} is still ${row.status} after ${Math.round(timeoutMs / 1000)} s (is a worker running?); it goes on, and the studio shows it when done`);
    }
    await new Promise((resolve) => setTimeout(resolve, pollMs));
  }
}
