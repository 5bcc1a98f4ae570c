import type { BackendInfo } from "../backend/index";
import type { ResolvedOptimizer, TrainConfig } from "./config";

export type LogStage = "start" | "epoch_start" | "training" | "validation" | "epoch_end" | "completed" | "stopped";

export type TrainEvent =
  | {
      type: "start";
      backend: BackendInfo;
      runDir: string;
      task: TrainConfig["task"];
      epochs: number;
      /** First epoch this process runs (> 1 when resuming). */
      startEpoch: number;
      resumed: boolean;
      classNames: string[];
      params: number;
      optimizer: ResolvedOptimizer;
      trainImages: number;
      valImages: number;
    }
  | { type: "epoch_start"; epoch: number; epochs: number }
  | { type: "step"; epoch: number; epochs: number; step: number; steps: number; loss: number; lr: number; imgsPerSec: number }
  | { type: "validation"; epoch: number; metrics: Record<string, number>; details?: Record<string, unknown> }
  | { type: "epoch_end"; epoch: number; epochs: number; metrics: Record<string, number>; isBest: boolean; seconds: number }
  | { type: "completed"; epochs: number; bestEpoch: number; bestFitness: number | null; stoppedEarly: boolean; runDir: string; metrics: Record<string, number> }
  | { type: "stopped" | "paused"; epoch: number; step: number; runDir: string }
  | { type: "log"; level: "info" | "warn" | "error"; message: string; stage: LogStage; epoch?: number };

export type TrainControl = "continue" | "stop" | "pause";

export interface TrainHooks {
  onEvent?(event: TrainEvent): void | Promise<void>;
  /** Polled between steps: "stop" ends the run, "pause" ends it resumably; both write weights/last. */
  control?(): TrainControl;
}

export interface TrainResult {
  status: "completed" | "stopped" | "paused";
  stoppedEarly: boolean;
  runDir: string;
  /** Epochs fully trained so far (over all resumes). */
  epochsCompleted: number;
  bestEpoch: number;
  bestFitness: number | null;
  /** Metrics of the last completed epoch, and of the best one. */
  metrics: Record<string, number>;
  bestMetrics: Record<string, number>;
  lastCheckpoint: string;
  bestCheckpoint: string;
}

export class TrainError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "TrainError";
  }
}
