// What the phases of one training run share: the inputs train() prepared, and the run's state that
// the epochs advance (progress, metrics) — one object, so each phase is a function of it.
import type { BackendInfo } from "../../backend/index";
import type { PreparedTask, TaskAdapter } from "../adapter";
import type { CheckpointContents, TrainProgress } from "../checkpoint";
import type { ResolvedOptimizer, TrainConfig } from "../config";
import type { LogStage, TrainControl, TrainEvent, TrainResult } from "../events";
import type { TrainOptimizer } from "../optimizers";
import type { ResultsCsv, RunFolder } from "../run-folder";
import type { ScheduleOptions } from "../schedule";
import type { TrainStepper } from "../stepper";
import type { RunPlots } from "./plots";

export interface RunContext {
  config: TrainConfig;
  folder: RunFolder;
  resumeFrom?: CheckpointContents;
  adapter: TaskAdapter;
  prepared: PreparedTask<{ size: number }>;
  backend: BackendInfo;
  emit(event: TrainEvent): Promise<void>;
  log(message: string, stage: LogStage, level?: "info" | "warn" | "error", epoch?: number): Promise<void>;
  /** Lines gathered before the start event, logged right after it. */
  pendingLogs: { message: string; level: "info" | "warn" }[];
  control?: () => TrainControl;
}

export interface Run extends RunContext {
  optimizer: TrainOptimizer;
  optimizerChoice: ResolvedOptimizer;
  stepper: TrainStepper<{ size: number }>;
  schedule: ScheduleOptions;
  results: ResultsCsv;
  plots: RunPlots;
  /** Validation runs each epoch (asked for, and there are validation images). */
  validating: boolean;
  progress: TrainProgress;
  lastMetrics: Record<string, number>;
  bestMetrics: Record<string, number>;
  /** The best validation's closing lines, when that validation ran in this process (not before a resume). */
  bestSummary?: string[];
  save(file: string, state: TrainProgress, metrics?: Record<string, number>): Promise<void>;
}

export function resultOf(run: Run, status: TrainResult["status"], stoppedEarly: boolean, epochsCompleted: number): TrainResult {
  return {
    status,
    stoppedEarly,
    runDir: run.folder.dir,
    epochsCompleted,
    bestEpoch: run.progress.bestEpoch,
    bestFitness: run.progress.bestFitness,
    metrics: run.lastMetrics,
    bestMetrics: run.bestMetrics,
    lastCheckpoint: run.folder.lastCheckpoint,
    bestCheckpoint: run.folder.bestCheckpoint,
  };
}
