import { boolean, index, integer, jsonb, pgTable, real, text, timestamp } from "drizzle-orm/pg-core";
import { users } from "./auth";
import { datasetItems, datasets } from "./datasets";
import { experiments } from "./experiments";
import { projects } from "./projects";
import { weights } from "./weights";

export const validationStatuses = ["queued", "running", "completed", "failed"] as const;
/** "validation": asked for by a user; "parity": an export's re-validation of its own file. */
export const validationPurposes = ["validation", "parity"] as const;

/** What a validation was asked to do (Ultralytics' val arguments). */
export interface ValidationParams {
  imgsz: number;
  batch: number;
  conf: number;
  iou: number;
  device: string;
  saveJson: boolean;
  plots: boolean;
  /** The run's own split of the dataset (an experiment with split ratios), so its val images are the ones it validated on. */
  resplit: { ratios: { train: number; val: number; test: number }; seed: number } | null;
}

/** Milliseconds per image, as Ultralytics prints them. */
export interface ValidationSpeed {
  preprocess: number;
  inference: number;
  postprocess: number;
}

/**
 * One validation of a weights entry (or an experiment's best checkpoint) on a dataset split. Scalars in
 * `metrics` use the engine's names (mAP50, mAP50_95, top1_acc …); per-class figures and the confusion
 * matrix are in `details`; plots and predictions.json are in `resultsDir` (relative to the storage root).
 */
export const validations = pgTable(
  "validations",
  {
    id: integer("id").primaryKey().generatedAlwaysAsIdentity(),
    projectId: integer("project_id").notNull().references(() => projects.id, { onDelete: "cascade" }),
    weightsId: integer("weights_id").references(() => weights.id, { onDelete: "cascade" }),
    experimentId: integer("experiment_id").references(() => experiments.id, { onDelete: "cascade" }),
    datasetId: integer("dataset_id").references(() => datasets.id, { onDelete: "set null" }),
    split: text("split").notNull(),
    purpose: text("purpose", { enum: validationPurposes }).notNull().default("validation"),
    task: text("task").notNull(),
    classNames: jsonb("class_names").$type<string[]>().notNull().default([]),
    params: jsonb("params").$type<ValidationParams>().notNull(),
    status: text("status", { enum: validationStatuses }).notNull().default("queued"),
    /** "onnxruntime" or the TF.js backend that ran it. */
    runtime: text("runtime"),
    images: integer("images").notNull().default(0),
    metrics: jsonb("metrics").$type<Record<string, number>>(),
    details: jsonb("details").$type<Record<string, unknown>>(),
    speed: jsonb("speed").$type<ValidationSpeed>(),
    resultsDir: text("results_dir"),
    error: text("error"),
    /** Its per-image outcomes and confusion cells are stored (validations recorded before they existed are derived on first read). */
    outcomesRecorded: boolean("outcomes_recorded").notNull().default(false),
    createdBy: integer("created_by").references(() => users.id, { onDelete: "set null" }),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
    startedAt: timestamp("started_at", { withTimezone: true }),
    finishedAt: timestamp("finished_at", { withTimezone: true }),
  },
  (t) => [index("validations_weights_idx").on(t.weightsId), index("validations_experiment_idx").on(t.experimentId), index("validations_project_idx").on(t.projectId)],
);

/** A predicted box in the source image's pixels. */
export interface PredictedBox {
  box: [number, number, number, number];
  score: number;
  cls: number;
}

/** What the model said about one image, beside the labels it was judged against. */
export interface ImagePrediction {
  /** Detection: every box kept by NMS at the validation's conf/iou. */
  boxes?: PredictedBox[];
  /** Classification: the highest-scoring classes, best first. */
  top?: { cls: number; score: number }[];
}

/** The labels of the image at validation time (the dataset may change later). */
export interface ImageTruth {
  boxes?: { box: [number, number, number, number]; cls: number }[];
  label?: number;
}

/** Per-image predictions of a validation, kept for error analysis (TP/FP/FN can be recomputed from them). */
export const validationPredictions = pgTable(
  "validation_predictions",
  {
    id: integer("id").primaryKey().generatedAlwaysAsIdentity(),
    validationId: integer("validation_id").notNull().references(() => validations.id, { onDelete: "cascade" }),
    datasetItemId: integer("dataset_item_id").references(() => datasetItems.id, { onDelete: "set null" }),
    /** Relative to the dataset folder. */
    path: text("path").notNull(),
    width: integer("width").notNull(),
    height: integer("height").notNull(),
    predicted: jsonb("predicted").$type<ImagePrediction>().notNull(),
    truth: jsonb("truth").$type<ImageTruth>().notNull(),
    /** Classification: whether top-1 is the label; detection: share of labelled boxes found at IoU 0.5. */
    correct: real("correct"),
  },
  (t) => [index("validation_predictions_validation_idx").on(t.validationId), index("validation_predictions_path_idx").on(t.validationId, t.path)],
);
