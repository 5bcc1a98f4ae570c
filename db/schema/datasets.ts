import { bigint, index, integer, jsonb, pgTable, real, text, timestamp, uniqueIndex } from "drizzle-orm/pg-core";
import { users } from "./auth";
import { projects } from "./projects";

export const datasetTasks = ["classify", "detect"] as const;
export const datasetFormats = ["imagefolder", "yolo", "coco", "voc"] as const;
export const datasetStatuses = ["importing", "ready", "failed"] as const;
export const datasetSplitNames = ["train", "val", "test"] as const;
export type DatasetSplitName = (typeof datasetSplitNames)[number];

/** The engine's box: class index into `datasets.classes`; centre x, centre y, width, height normalised to 0..1. */
export interface StoredBox {
  cls: number;
  x: number;
  y: number;
  w: number;
  h: number;
  difficult?: boolean;
}

export interface DatasetSplits {
  train: number;
  val: number;
  test: number;
  /** "folders": the dataset's own split folders; "ratios": drawn at random from `seed` and `ratios`. */
  source: "folders" | "ratios";
  seed: number | null;
  ratios: { train: number; val: number; test: number } | null;
}

export interface NumberSummary {
  min: number;
  median: number;
  max: number;
}

/** What the import found out about the dataset; every figure is computed from the stored items. */
export interface DatasetStats {
  images: number;
  bytes: number;
  perSplit: Record<DatasetSplitName, number>;
  /** Per class name: images that contain it (classify: images of the class) and instances (boxes). */
  classes: { name: string; images: number; instances: number }[];
  width: NumberSummary | null;
  height: NumberSummary | null;
  aspect: NumberSummary | null;
  /** Detection: share of images without any box (0..1). */
  emptyRate: number;
  emptyImages: number;
  corrupt: { path: string; reason: string }[];
  duplicates: { sha256: string; paths: string[] }[];
  /** Labels the reader could not use (box outside the image, unknown class, ...), as it reported them. */
  outOfRangeBoxes: { path: string; line?: number; reason: string }[];
  tinyBoxes: number;
  /** Files in the archive / folder that are neither images nor labels. */
  skipped: string[];
  evidence: string[];
}

export const datasets = pgTable(
  "datasets",
  {
    id: integer("id").primaryKey().generatedAlwaysAsIdentity(),
    projectId: integer("project_id").notNull().references(() => projects.id, { onDelete: "cascade" }),
    name: text("name").notNull(),
    description: text("description").notNull().default(""),
    task: text("task", { enum: datasetTasks }).notNull().default("classify"),
    format: text("format", { enum: datasetFormats }).notNull().default("imagefolder"),
    status: text("status", { enum: datasetStatuses }).notNull().default("importing"),
    /** Import progress 0..1 while status is importing, and what it is doing. */
    progress: real("progress").notNull().default(0),
    stage: text("stage").notNull().default(""),
    classes: jsonb("classes").$type<string[]>().notNull().default([]),
    stats: jsonb("stats").$type<DatasetStats | null>(),
    splits: jsonb("splits").$type<DatasetSplits | null>(),
    /** Absolute folder holding the dataset's files (owned by the studio). */
    storagePath: text("storage_path").notNull().default(""),
    error: text("error"),
    createdBy: integer("created_by").references(() => users.id, { onDelete: "set null" }),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp("updated_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [uniqueIndex("datasets_project_name_unique").on(t.projectId, t.name), index("datasets_project_idx").on(t.projectId)],
);

export const datasetItems = pgTable(
  "dataset_items",
  {
    id: integer("id").primaryKey().generatedAlwaysAsIdentity(),
    datasetId: integer("dataset_id").notNull().references(() => datasets.id, { onDelete: "cascade" }),
    split: text("split", { enum: datasetSplitNames }).notNull().default("train"),
    /** Relative to the dataset folder, forward slashes. */
    path: text("path").notNull(),
    bytes: bigint("bytes", { mode: "number" }).notNull(),
    sha256: text("sha256").notNull(),
    width: integer("width").notNull().default(0),
    height: integer("height").notNull().default(0),
    /** Classification: index into `datasets.classes`. */
    label: integer("label"),
    /** Detection: boxes (normalised, the engine's format). */
    boxes: jsonb("boxes").$type<StoredBox[]>(),
    /** Why the item cannot be used as is (unreadable, box out of range, ...). Empty when fine. */
    problems: jsonb("problems").$type<string[]>().notNull().default([]),
  },
  (t) => [
    uniqueIndex("dataset_items_dataset_path_unique").on(t.datasetId, t.path),
    index("dataset_items_dataset_split_idx").on(t.datasetId, t.split),
  ],
);

/** A named augmentation pipeline (the engine's op list), validated before it is stored. */
export const augmentations = pgTable(
  "augmentations",
  {
    id: integer("id").primaryKey().generatedAlwaysAsIdentity(),
    projectId: integer("project_id").notNull().references(() => projects.id, { onDelete: "cascade" }),
    name: text("name").notNull(),
    description: text("description").notNull().default(""),
    pipeline: jsonb("pipeline").$type<unknown[]>().notNull().default([]),
    createdBy: integer("created_by").references(() => users.id, { onDelete: "set null" }),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp("updated_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [uniqueIndex("augmentations_project_name_unique").on(t.projectId, t.name)],
);

/**
 * Why an import failed. A failed or cancelled import leaves no dataset row and no files, so the reason
 * is kept here for the page that started it (looked up by the id the dataset had).
 */
export const datasetImportFailures = pgTable(
  "dataset_import_failures",
  {
    id: integer("id").primaryKey().generatedAlwaysAsIdentity(),
    projectId: integer("project_id").notNull().references(() => projects.id, { onDelete: "cascade" }),
    datasetId: integer("dataset_id").notNull(),
    name: text("name").notNull(),
    error: text("error").notNull(),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [index("dataset_import_failures_dataset_idx").on(t.datasetId), index("dataset_import_failures_project_idx").on(t.projectId)],
);
