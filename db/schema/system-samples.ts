import { bigint, doublePrecision, index, integer, jsonb, pgTable, primaryKey, real, text, timestamp, uniqueIndex } from "drizzle-orm/pg-core";
import { experiments } from "./experiments";

/** One GPU as nvidia-smi reported it; a figure the card does not report ("[N/A]") is null. */
export interface GpuReading {
  index: number;
  uuid: string | null;
  name: string;
  utilPercent: number | null;
  memoryUtilPercent: number | null;
  memoryUsedMiB: number | null;
  memoryTotalMiB: number | null;
  temperatureC: number | null;
  powerW: number | null;
  powerLimitW: number | null;
  smClockMHz: number | null;
  memoryClockMHz: number | null;
  fanPercent: number | null;
  /** Compute processes on this GPU (`--query-compute-apps`), with the run that owns the pid. */
  processes: { pid: number; usedMiB: number | null; experimentId: number | null }[];
}

/** A training run's own process on the sampled host. */
export interface RunProcessReading {
  experimentId: number;
  pid: number;
  /** Percent of one core (Linux /proc; null elsewhere). */
  cpuPercent: number | null;
  rssBytes: number | null;
  /** Its memory on all GPUs, from nvidia-smi's compute apps; null without nvidia-smi. */
  gpuMemoryMiB: number | null;
}

/** The figures one host reports; the same columns serve the 1 s samples and the 1 min rollups (means). */
const sampleColumns = {
  host: text("host").notNull(),
  cpuPercent: real("cpu_percent").notNull(),
  cpuCores: jsonb("cpu_cores").$type<number[]>().notNull().default([]),
  load1: real("load1").notNull(),
  load5: real("load5").notNull(),
  load15: real("load15").notNull(),
  memoryUsed: bigint("memory_used", { mode: "number" }).notNull(),
  memoryTotal: bigint("memory_total", { mode: "number" }).notNull(),
  memoryAvailable: bigint("memory_available", { mode: "number" }).notNull(),
  swapUsed: bigint("swap_used", { mode: "number" }).notNull(),
  swapTotal: bigint("swap_total", { mode: "number" }).notNull(),
  /** The file system that holds the storage root; null when it cannot be measured. */
  diskUsed: bigint("disk_used", { mode: "number" }),
  diskTotal: bigint("disk_total", { mode: "number" }),
  netRxBytesPerSecond: real("net_rx_bytes_per_s"),
  netTxBytesPerSecond: real("net_tx_bytes_per_s"),
  gpus: jsonb("gpus").$type<GpuReading[]>().notNull().default([]),
  /** Why `gpus` is empty (no nvidia-smi, no lspci, nvidia-smi failed); null when GPUs were read. */
  gpuUnavailable: text("gpu_unavailable"),
  runs: jsonb("runs").$type<RunProcessReading[]>().notNull().default([]),
};

/** Once a second from every training host (the sampler in server/system/sampler.ts); kept an hour. */
export const systemSamples = pgTable(
  "system_samples",
  { ...sampleColumns, at: timestamp("at", { withTimezone: true }).notNull() },
  (t) => [primaryKey({ columns: [t.host, t.at] }), index("system_samples_at_idx").on(t.at)],
);

/** Minute means of `system_samples` (maxima for temperature and memory), kept 30 days. */
export const systemSamplesMinute = pgTable(
  "system_samples_minute",
  {
    ...sampleColumns,
    minute: timestamp("minute", { withTimezone: true }).notNull(),
    samples: integer("samples").notNull(),
    cpuPercentMax: real("cpu_percent_max").notNull(),
  },
  (t) => [primaryKey({ columns: [t.host, t.minute] }), index("system_samples_minute_minute_idx").on(t.minute)],
);

/** Where each run's process ran: what maps a GPU process to its run, and a run to its host's samples. */
export const runPlacements = pgTable(
  "run_placements",
  {
    id: integer("id").primaryKey().generatedAlwaysAsIdentity(),
    experimentId: integer("experiment_id").notNull().references(() => experiments.id, { onDelete: "cascade" }),
    host: text("host").notNull(),
    pid: integer("pid").notNull(),
    /** The training worker process that started it. */
    workerPid: integer("worker_pid").notNull(),
    startedAt: timestamp("started_at", { withTimezone: true }).notNull().defaultNow(),
    lastSeenAt: timestamp("last_seen_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [uniqueIndex("run_placements_run_host_pid_unique").on(t.experimentId, t.host, t.pid), index("run_placements_host_seen_idx").on(t.host, t.lastSeenAt)],
);

/** A training step's measured memory at a few batch sizes (AutoBatch), per host, device, model and image size. */
export const batchMeasurements = pgTable(
  "batch_measurements",
  {
    id: integer("id").primaryKey().generatedAlwaysAsIdentity(),
    host: text("host").notNull(),
    device: text("device").notNull(),
    backend: text("backend").notNull(),
    model: text("model").notNull(),
    imgsz: integer("imgsz").notNull(),
    bytesPerImage: doublePrecision("bytes_per_image").notNull(),
    interceptBytes: doublePrecision("intercept_bytes").notNull(),
    freeBytes: bigint("free_bytes", { mode: "number" }).notNull(),
    /** The batch that uses the target fraction of the free memory. */
    batch: integer("batch").notNull(),
    samples: jsonb("samples").$type<{ batch: number; peakBytes: number }[]>().notNull(),
    measuredAt: timestamp("measured_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [uniqueIndex("batch_measurements_key_unique").on(t.host, t.device, t.model, t.imgsz)],
);

export type SystemSampleRow = typeof systemSamples.$inferSelect;
export type SystemSampleMinuteRow = typeof systemSamplesMinute.$inferSelect;
