import { bigint, index, integer, jsonb, pgTable, text, timestamp, type AnyPgColumn } from "drizzle-orm/pg-core";
import { users } from "./auth";
import { datasets } from "./datasets";
import { architectures, experiments } from "./experiments";
import { projects } from "./projects";

export const weightsFormats = ["onnx", "pt", "ckpt", "tfjs"] as const;
export type WeightsFormat = (typeof weightsFormats)[number];
/** `processing`: a job (export, fine-tune) is still writing the file; the entry is not downloadable yet. */
export const weightsStatuses = ["ready", "processing", "failed"] as const;

/** What the latest validation of these weights measured, and on what. */
export interface WeightsMetrics {
  /** The engine's metric names: mAP50, mAP50_95, precision, recall, top1_acc … */
  values: Record<string, number>;
  /** "training": the validation a run did at the saved epoch; "validation": a validation job. */
  source: "training" | "validation";
  datasetId: number | null;
  split: string | null;
  validatedAt: string;
}

/**
 * How a classifier's input is prepared and its output read, for files that do not say (a torchvision
 * export: ImageNet mean/std, centre crop, logits). Unset fields take the studio's own defaults.
 */
export interface ClassifierPreprocessing {
  channels?: "RGB" | "BGR";
  /** Per channel, on pixels in [0, 1]: (x - mean) / std. */
  mean?: [number, number, number];
  std?: [number, number, number];
  /** stretch to imgsz, or resize the short side to imgsz / cropFraction and crop the centre. */
  resize?: "stretch" | "center_crop";
  cropFraction?: number;
  /** What the output holds; auto: probabilities when every row is in [0, 1] and sums to 1. */
  output?: "auto" | "logits" | "probabilities";
}

/**
 * A weights file in a project's library. The file is content-addressed (`weights/<sha256>/…` under the
 * storage root): entries with the same sha256 share one file, removed with the last of them.
 */
export const weights = pgTable(
  "weights",
  {
    id: integer("id").primaryKey().generatedAlwaysAsIdentity(),
    projectId: integer("project_id").notNull().references(() => projects.id, { onDelete: "cascade" }),
    name: text("name").notNull(),
    description: text("description").notNull().default(""),
    format: text("format", { enum: weightsFormats }).notNull(),
    /** detect, classify (segment, pose, obb from foreign files); null when nothing in the file says. */
    task: text("task"),
    classNames: jsonb("class_names").$type<string[]>().notNull().default([]),
    /** The model input as the file declares it (ONNX: NCHW with symbolic dims as names; studio: [H, W, C]). */
    inputShape: jsonb("input_shape").$type<(number | string)[] | null>(),
    /** [height, width] the model was trained or exported at. */
    imgsz: jsonb("imgsz").$type<[number, number] | null>(),
    /** Path of the file relative to the storage root, named by the studio. */
    file: text("file").notNull(),
    bytes: bigint("bytes", { mode: "number" }).notNull(),
    sha256: text("sha256").notNull(),
    /** What the reader found in the file (opsets, inputs/outputs, producer, checkpoint kind, tensor count …). */
    details: jsonb("details").$type<Record<string, unknown>>().notNull().default({}),
    metrics: jsonb("metrics").$type<WeightsMetrics | null>(),
    preprocessing: jsonb("preprocessing").$type<ClassifierPreprocessing | null>(),
    tags: text("tags").array().notNull().default([]),
    status: text("status", { enum: weightsStatuses }).notNull().default("ready"),
    error: text("error"),
    // Lineage: deleting the experiment, dataset or architecture keeps the weights and forgets the link.
    sourceExperimentId: integer("source_experiment_id").references(() => experiments.id, { onDelete: "set null" }),
    sourceEpoch: integer("source_epoch"),
    datasetId: integer("dataset_id").references(() => datasets.id, { onDelete: "set null" }),
    datasetSplit: text("dataset_split"),
    /** A zoo model name ("yolov8n") when no architecture row describes the network. */
    model: text("model"),
    architectureId: integer("architecture_id").references(() => architectures.id, { onDelete: "set null" }),
    /** The weights this entry was exported or fine-tuned from. */
    parentId: integer("parent_id").references((): AnyPgColumn => weights.id, { onDelete: "set null" }),
    createdBy: integer("created_by").references(() => users.id, { onDelete: "set null" }),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp("updated_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [index("weights_project_idx").on(t.projectId), index("weights_sha256_idx").on(t.sha256), index("weights_parent_idx").on(t.parentId)],
);
