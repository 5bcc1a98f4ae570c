import { z } from "zod";
import { parseDevice, type Device } from "../backend/index";
import type { ClassifyIndex } from "../data/imagefolder";
import type { ModelGraph } from "../graph/index";
import { augmentPipelineSchema } from "../augment/index";

/** Hyper-parameter names and defaults follow Ultralytics so its users find what they know. */
export const optimizerNames = ["SGD", "Adam", "AdamW", "RMSProp"] as const;
export type OptimizerName = (typeof optimizerNames)[number];

export class TrainConfigError extends Error {
  constructor(message: string, public field?: string) {
    super(message);
    this.name = "TrainConfigError";
  }
}

/** `batch: AUTO_BATCH` asks AutoBatch to choose. */
export const AUTO_BATCH = -1;

export interface AutoBatchRecord {
  fraction: number;
  /** Which memory bounds the step, e.g. "WebAssembly heap of one thread (4 GiB)". */
  memory: string;
  freeBytes: number;
  samples: { batch: number; peakBytes: number }[];
  bytesPerImage: number;
  interceptBytes: number;
  perThread: number;
  workers: number;
  batch: number;
  confirmedPeakBytes: number;
}

const isModelGraph = (value: unknown): value is ModelGraph =>
  typeof value === "object" && value !== null && Array.isArray((value as ModelGraph).nodes) && Array.isArray((value as ModelGraph).edges);

const isClassifyIndex = (value: unknown): value is ClassifyIndex =>
  typeof value === "object" && value !== null && Array.isArray((value as ClassifyIndex).classes) && Array.isArray((value as ClassifyIndex).items);

// Bounds keep every count within the int4 columns it reaches (total/current epoch) and the engine sane.
const INT32_MAX = 2_147_483_647;
const MAX_COUNT = 100_000;
const MAX_BATCH = 65_536;
const MAX_WORKERS = 256;

const number = (field: string) => z.number({ error: `${field} must be a number` });
const integer = (field: string) => number(field).int({ error: `${field} must be an integer` });
const boolean = (field: string) => z.boolean({ error: `${field} must be true or false` });

export const trainConfigSchema = z.object({
  task: z.enum(["classify", "detect"], { error: "task must be classify or detect" }).default("classify"),
  data: z.union([z.string().min(1), z.custom<ClassifyIndex>(isClassifyIndex)], {
    error: "data must be a dataset folder path or a dataset index",
  }),
  model: z.union([z.string().min(1), z.custom<ModelGraph>(isModelGraph)], {
    error: "model must be a zoo model name or a graph {nodes, edges}",
  }),
  /** Square input size in pixels; task default: 64 for classify, 640 for detect. */
  imgsz: integer("imgsz").min(32, { error: "imgsz must be ≥ 32" }).max(2048, { error: "imgsz must be ≤ 2048" }).optional(),
  epochs: integer("epochs").positive({ error: "epochs must be ≥ 1" }).max(MAX_COUNT, { error: `epochs must be ≤ ${MAX_COUNT}` }).default(100),
  /** -1: AutoBatch (train/autobatch.ts) picks the batch that uses 60% of the device's free memory. */
  batch: integer("batch")
    .refine((v) => v === AUTO_BATCH || v >= 1, { error: "batch must be ≥ 1, or -1 for AutoBatch (the batch that fills 60% of the device's free memory)" })
    .refine((v) => v <= MAX_BATCH, { error: `batch must be ≤ ${MAX_BATCH}` })
    .default(16),
  /** Set by AutoBatch, never by a user: what it measured and chose (kept in args.json and checkpoints). */
  autobatch: z.custom<AutoBatchRecord>((v) => typeof v === "object" && v !== null).optional(),
  optimizer: z.enum(["auto", ...optimizerNames], { error: `optimizer must be one of auto, ${optimizerNames.join(", ")}` }).default("auto"),
  lr0: number("lr0").positive({ error: "lr0 must be > 0" }).default(0.01),
  /** Final learning rate as a fraction of lr0. */
  lrf: number("lrf").positive({ error: "lrf must be > 0" }).max(1, { error: "lrf must be ≤ 1" }).default(0.01),
  momentum: number("momentum").min(0, { error: "momentum must be ≥ 0" }).lt(1, { error: "momentum must be < 1" }).default(0.937),
  nesterov: boolean("nesterov").default(false),
  weight_decay: number("weight_decay").min(0, { error: "weight_decay must be ≥ 0" }).default(0.0005),
  warmup_epochs: number("warmup_epochs").min(0, { error: "warmup_epochs must be ≥ 0" }).max(MAX_COUNT, { error: `warmup_epochs must be ≤ ${MAX_COUNT}` }).default(3),
  cos_lr: boolean("cos_lr").default(false),
  label_smoothing: number("label_smoothing").min(0, { error: "label_smoothing must be ≥ 0" }).lt(1, { error: "label_smoothing must be < 1" }).default(0),
  /** Epochs without fitness improvement before stopping early. */
  patience: integer("patience").min(1, { error: "patience must be ≥ 1" }).max(MAX_COUNT, { error: `patience must be ≤ ${MAX_COUNT}` }).default(100),
  /** Save an extra checkpoint every N epochs; -1 = off. */
  save_period: integer("save_period").min(-1, { error: "save_period must be -1 (off) or ≥ 1" }).max(MAX_COUNT, { error: `save_period must be ≤ ${MAX_COUNT}` }).refine((v) => v !== 0, { error: "save_period must be -1 (off) or ≥ 1" }).default(-1),
  /** Clip gradients to this global L2 norm; 0 = off. */
  clip_grad: number("clip_grad").min(0, { error: "clip_grad must be ≥ 0" }).default(10),
  seed: integer("seed").min(0, { error: "seed must be ≥ 0" }).max(INT32_MAX, { error: `seed must be ≤ ${INT32_MAX}` }).default(0),
  device: z.string({ error: "device must be a string" }).default("auto").transform((value, ctx): Device => {
    try {
      return parseDevice(value);
    } catch (error) {
      ctx.addIssue({ code: "custom", message: `device: ${(error as Error).message}` });
      return z.NEVER;
    }
  }),
  /**
   * Threads that compute gradients, each on its share of every batch: "auto" = one per core (at
   * most 4) when the backend runs one thread (wasm, cpu), else 1.
   */
  workers: z
    .union([z.literal("auto"), integer("workers").min(1, { error: "workers must be ≥ 1" }).max(MAX_WORKERS, { error: `workers must be ≤ ${MAX_WORKERS}` })], { error: 'workers must be "auto" or an integer ≥ 1' })
    .default("auto"),
  /**
   * Images per forward/backward pass and thread; larger batches accumulate the gradients of several
   * passes before one update. "auto" = the whole batch, except where memory bounds it (WASM's 4 GiB heap).
   */
  micro_batch: z
    .union([z.literal("auto"), integer("micro_batch").min(1, { error: "micro_batch must be ≥ 1" }).max(MAX_BATCH, { error: `micro_batch must be ≤ ${MAX_BATCH}` })], { error: 'micro_batch must be "auto" or an integer ≥ 1' })
    .default("auto"),
  cache: z.union([z.literal(false), z.literal("ram"), z.literal("disk")], { error: "cache must be false, ram or disk" }).default(false),
  /** Validate after every epoch. */
  val: boolean("val").default(true),
  augment: augmentPipelineSchema.optional(),
  /** Detection: probability of a 4-image mosaic per training image (Ultralytics `mosaic`). */
  mosaic: number("mosaic").min(0, { error: "mosaic must be in [0, 1]" }).max(1, { error: "mosaic must be in [0, 1]" }).default(1),
  /** Detection: the last N epochs train without mosaic (Ultralytics `close_mosaic`). */
  close_mosaic: integer("close_mosaic").min(0, { error: "close_mosaic must be ≥ 0" }).max(MAX_COUNT, { error: `close_mosaic must be ≤ ${MAX_COUNT}` }).default(10),
  /** Emit a `step` event every N steps. */
  log_every: integer("log_every").min(1, { error: "log_every must be ≥ 1" }).max(MAX_COUNT, { error: `log_every must be ≤ ${MAX_COUNT}` }).default(10),
  runsDir: z.string().min(1).default("runs"),
  /** Defaults to the task name, like Ultralytics' runs/classify. */
  project: z.string().min(1).regex(/^[\w.-]+$/, { error: "project must be a plain folder name" }).optional(),
  name: z.string().min(1).regex(/^[\w.-]+$/, { error: "name must be a plain folder name" }).default("exp"),
  /** Reuse the run folder `name` as is instead of picking exp2, exp3 … */
  exist_ok: boolean("exist_ok").default(false),
  /** Weights to fine-tune from: a run folder, a studio .ckpt, a PyTorch .pt/.pth (zoo models with a PyTorch original) or a zipped TF.js model. */
  pretrained: z.string().min(1).optional(),
  /** Continue the run folder project/name from weights/last. */
  resume: boolean("resume").default(false),
});

export type TrainConfigInput = z.input<typeof trainConfigSchema>;
export type TrainConfig = Omit<z.output<typeof trainConfigSchema>, "imgsz" | "project"> & { imgsz: number; project: string };

/** Parses and applies defaults; throws TrainConfigError whose message names every bad field. */
export function parseTrainConfig(input: unknown): TrainConfig {
  const result = trainConfigSchema.safeParse(input);
  if (!result.success) {
    const messages = result.error.issues.map((issue) => {
      const field = issue.path.join(".");
      return field && !issue.message.startsWith(field) ? `${field}: ${issue.message}` : issue.message;
    });
    throw new TrainConfigError(messages.join("; "), result.error.issues[0]?.path.join("."));
  }
  const config = result.data;
  return {
    ...config,
    imgsz: config.imgsz ?? (config.task === "classify" ? 64 : 640),
    project: config.project ?? config.task,
  };
}

export interface ResolvedOptimizer {
  name: OptimizerName;
  lr0: number;
  momentum: number;
  /** Why this choice, for the run log. */
  reason: string;
}

/**
 * `optimizer: "auto"` follows Ultralytics: short runs (≤ 10,000 iterations) use AdamW with
 * lr0 = 0.002·5/(4+nc) and momentum 0.9 (lr0 and momentum from the config are ignored), longer
 * runs SGD with lr0 0.01 and momentum 0.9.
 */
export function resolveOptimizer(config: Pick<TrainConfig, "optimizer" | "lr0" | "momentum">, numClasses: number, iterations: number): ResolvedOptimizer {
  if (config.optimizer !== "auto") return { name: config.optimizer, lr0: config.lr0, momentum: config.momentum, reason: "set in the config" };
  if (iterations > 10_000) return { name: "SGD", lr0: 0.01, momentum: 0.9, reason: `optimizer=auto: ${iterations} iterations > 10000 → SGD` };
  const lr0 = Math.round((0.002 * 5 / (4 + numClasses)) * 1e6) / 1e6;
  return { name: "AdamW", lr0, momentum: 0.9, reason: `optimizer=auto: ${iterations} iterations ≤ 10000 → AdamW with lr0=${lr0} for ${numClasses} classes` };
}

/** Warm-up is capped at a tenth of the run so that few-epoch runs still spend most steps at full lr. */
export function effectiveWarmupEpochs(config: Pick<TrainConfig, "warmup_epochs" | "epochs">): number {
  return Math.min(config.warmup_epochs, config.epochs / 10);
}
