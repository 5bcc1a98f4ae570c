import type { Experiment, ExperimentLog } from "./experiment-common";

/** A complete experiment row for mapper tests; override what the test is about. */
export function experimentRow(overrides: Partial<Experiment> = {}): Experiment {
  return {
    id: 123,
    projectId: 1,
    name: "string",
    task: "detect",
    datasetId: 7,
    model: "yolov8s",
    architectureId: null,
    augmentationId: null,
    splitRatios: null,
    splitSeed: 0,
    saveDir: null,
    hyperparameters: { epochs: 100, batch: 16, lr0: 0.01 },
    deviceRequested: "auto",
    backend: "wasm",
    status: "running",
    error: null,
    attempt: 1,
    heartbeatAt: null,
    retries: 0,
    logSeq: 0,
    progress: 75,
    currentEpoch: 75,
    totalEpochs: 100,
    latestMetrics: {},
    bestMetrics: {},
    bestEpoch: null,
    epochSeconds: null,
    runDir: null,
    createdBy: null,
    queuedAt: null,
    startedAt: null,
    finishedAt: null,
    createdAt: new Date("2024-09-15T10:00:00Z"),
    updatedAt: new Date("2024-09-15T10:00:00Z"),
    ...overrides,
  };
}

export function logRow(overrides: Partial<ExperimentLog> = {}): ExperimentLog {
  return { id: 1, experimentId: 123, seq: 1, at: new Date("2025-10-29T10:16:45Z"), level: "info", stage: "training", message: "", epoch: null, metrics: null, ...overrides };
}
