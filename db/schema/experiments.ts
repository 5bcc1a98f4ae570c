import { bigint, index, integer, jsonb, pgTable, real, text, timestamp, uniqueIndex } from "drizzle-orm/pg-core";
import { users } from "./auth";
import { augmentations, datasets } from "./datasets";
import { projects } from "./projects";

export const experimentTasks = ["classify", "detect"] as const;

/**
 * `created`: saved, never started (the old create-then-start dialects need it). `pausing` and
 * `stopping` are requests the run process honours between steps.
 */
export const experimentStatuses = ["created", "queued", "running", "pausing", "paused", "stopping", "stopped", "completed", "failed"] as const;
export type ExperimentStatus = (typeof experimentStatuses)[number];

/** A worker is on the run (or will be, for `queued`): it holds on to its dataset and weights. */
export const activeExperimentStatuses = ["queued", "running", "pausing", "stopping"] as const satisfies readonly ExperimentStatus[];
/** A worker is on the run now. */
export const runningExperimentStatuses = ["running", "pausing", "stopping"] as const satisfies readonly ExperimentStatus[];
/** The experiment will not change by itself any more. */
export const finishedExperimentStatuses = ["stopped", "completed", "failed"] as const satisfies readonly ExperimentStatus[];
/** The run may go on from its last checkpoint. */
export const resumableExperimentStatuses = ["paused", "stopped", "failed", "completed"] as const satisfies readonly ExperimentStatus[];

export function isExperimentIn(status: ExperimentStatus, set: readonly ExperimentStatus[]): boolean {
  return set.includes(status);
}

export const logLevels = ["info", "warn", "error"] as const;
export const logStages = ["start", "epoch_start", "training", "validation", "epoch_end", "completed", "stopped", "failed"] as const;
export type LogStage = (typeof logStages)[number];

/** Per-node shapes, params and FLOPs as the engine's analyzeGraph reports them for the default input. */
export type ArchitectureSummary = Record<string, unknown>;

export const architectures = pgTable(
  "architectures",
  {
    id: integer("id").primaryKey().generatedAlwaysAsIdentity(),
    projectId: integer("project_id").notNull().references(() => projects.id, { onDelete: "cascade" }),
    name: text("name").notNull(),
    description: text("description").notNull().default(""),
    task: text("task", { enum: experimentTasks }).notNull().default("classify"),
    /** `{nodes, edges}` in the old studio's ReactFlow format, as the engine compiles it. */
    graph: jsonb("graph").$type<{ nodes: unknown[]; edges: unknown[] }>().notNull(),
    summary: jsonb("summary").$type<ArchitectureSummary>().notNull(),
    createdBy: integer("created_by").references(() => users.id, { onDelete: "set null" }),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp("updated_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [uniqueIndex("architectures_project_name_unique").on(t.projectId, t.name)],
);

export const trainingConfigs = pgTable(
  "training_configs",
  {
    id: integer("id").primaryKey().generatedAlwaysAsIdentity(),
    projectId: integer("project_id").notNull().references(() => projects.id, { onDelete: "cascade" }),
    name: text("name").notNull(),
    hyperparameters: jsonb("hyperparameters").$type<Record<string, unknown>>().notNull(),
    /** The template's model, if it names one: a zoo model name or an architecture (at most one). */
    model: text("model"),
    architectureId: integer("architecture_id").references(() => architectures.id, { onDelete: "set null" }),
    device: text("device"),
    /** The template's augmentation as our ops (old clients send Ultralytics' keys; see augment/foreign.ts). */
    augmentation: jsonb("augmentation").$type<unknown[] | null>(),
    /** Settings an old client saved that are neither hyper-parameters nor ops, kept as given. */
    extra: jsonb("extra").$type<Record<string, unknown>>().notNull().default({}),
    createdBy: integer("created_by").references(() => users.id, { onDelete: "set null" }),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [uniqueIndex("training_configs_project_name_unique").on(t.projectId, t.name)],
);

export const experiments = pgTable(
  "experiments",
  {
    id: integer("id").primaryKey().generatedAlwaysAsIdentity(),
    projectId: integer("project_id").notNull().references(() => projects.id, { onDelete: "cascade" }),
    name: text("name").notNull(),
    task: text("task", { enum: experimentTasks }).notNull().default("classify"),
    // Deleting a dataset or architecture keeps the finished experiments' history (their services refuse while one runs).
    datasetId: integer("dataset_id").references(() => datasets.id, { onDelete: "set null" }),
    /** Zoo model name, or null when `architectureId` is set. */
    model: text("model"),
    architectureId: integer("architecture_id").references(() => architectures.id, { onDelete: "set null" }),
    augmentationId: integer("augmentation_id").references(() => augmentations.id, { onDelete: "set null" }),
    /** This run's own split of the dataset (stratified by class, drawn from `splitSeed`); null = the dataset's split. */
    splitRatios: jsonb("split_ratios").$type<{ train: number; val: number; test: number } | null>(),
    splitSeed: integer("split_seed").notNull().default(0),
    /** A server folder (under the import roots) the run's weights and results are copied into when it completes. */
    saveDir: text("save_dir"),
    /** The engine's train config keys (epochs, batch, lr0, …; `command` for an external trainer). */
    hyperparameters: jsonb("hyperparameters").$type<Record<string, unknown>>().notNull(),
    deviceRequested: text("device_requested").notNull().default("auto"),
    /** What the run actually trained on, e.g. "wasm" or "tensorflow (cuda:0)". */
    backend: text("backend"),
    status: text("status", { enum: experimentStatuses }).notNull().default("created"),
    error: text("error"),
    /** Lease: a worker claims a run by bumping `attempt` and setting a fresh token; every write names the token. */
    attempt: integer("attempt").notNull().default(0),
    leaseToken: text("lease_token"),
    heartbeatAt: timestamp("heartbeat_at", { withTimezone: true }),
    /** Crash recoveries so far (capped by the reaper's retry limit); pause/resume does not count. */
    retries: integer("retries").notNull().default(0),
    /** Last log sequence number handed out; logs take max+1 under the lease. */
    logSeq: integer("log_seq").notNull().default(0),
    /** 0..100. */
    progress: real("progress").notNull().default(0),
    currentEpoch: integer("current_epoch").notNull().default(0),
    totalEpochs: integer("total_epochs").notNull().default(0),
    latestMetrics: jsonb("latest_metrics").$type<Record<string, number>>().notNull().default({}),
    bestMetrics: jsonb("best_metrics").$type<Record<string, number>>().notNull().default({}),
    bestEpoch: integer("best_epoch"),
    /** Mean seconds per trained epoch so far, for the ETA. */
    epochSeconds: real("epoch_seconds"),
    runDir: text("run_dir"),
    createdBy: integer("created_by").references(() => users.id, { onDelete: "set null" }),
    queuedAt: timestamp("queued_at", { withTimezone: true }),
    startedAt: timestamp("started_at", { withTimezone: true }),
    finishedAt: timestamp("finished_at", { withTimezone: true }),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp("updated_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    uniqueIndex("experiments_project_name_unique").on(t.projectId, t.name),
    index("experiments_project_idx").on(t.projectId),
    index("experiments_status_idx").on(t.status),
  ],
);

/** `step` 0 holds an epoch's end-of-epoch metrics; steps ≥ 1 hold running losses within the epoch. */
export const experimentMetrics = pgTable(
  "experiment_metrics",
  {
    id: bigint("id", { mode: "number" }).primaryKey().generatedAlwaysAsIdentity(),
    experimentId: integer("experiment_id").notNull().references(() => experiments.id, { onDelete: "cascade" }),
    epoch: integer("epoch").notNull(),
    step: integer("step").notNull(),
    values: jsonb("values").$type<Record<string, number>>().notNull(),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [uniqueIndex("experiment_metrics_point_unique").on(t.experimentId, t.epoch, t.step)],
);

export const experimentLogs = pgTable(
  "experiment_logs",
  {
    id: bigint("id", { mode: "number" }).primaryKey().generatedAlwaysAsIdentity(),
    experimentId: integer("experiment_id").notNull().references(() => experiments.id, { onDelete: "cascade" }),
    seq: integer("seq").notNull(),
    at: timestamp("at", { withTimezone: true }).notNull().defaultNow(),
    level: text("level", { enum: logLevels }).notNull().default("info"),
    stage: text("stage", { enum: logStages }).notNull(),
    message: text("message").notNull(),
    epoch: integer("epoch"),
    metrics: jsonb("metrics").$type<Record<string, number>>(),
  },
  (t) => [uniqueIndex("experiment_logs_seq_unique").on(t.experimentId, t.seq)],
);
