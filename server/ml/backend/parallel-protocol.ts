// Messages between createParallelStepper (main thread) and its training worker threads.

export type OptimizerConfig =
  | { name: "sgd"; learningRate: number }
  | { name: "momentum"; learningRate: number; momentum: number; nesterov?: boolean }
  | { name: "adam"; learningRate: number; beta1?: number; beta2?: number; epsilon?: number }
  | { name: "rmsprop"; learningRate: number; decay?: number; momentum?: number; epsilon?: number };

/** "logits": softmax cross-entropy on the model's output; "probabilities": the model already ends with a softmax. */
export type ClassificationLoss = "logits" | "probabilities";

export interface WorkerSetup {
  /** model.toJSON(): topology only; weights follow separately. */
  modelJson: string;
  weights: { shape: number[]; values: Float32Array }[];
  optimizer: OptimizerConfig;
  loss: ClassificationLoss;
  labelSmoothing: number;
  numClasses: number;
  /** Modules to import before the model is rebuilt (they register custom layer classes). */
  setupModules: string[];
}

export type WorkerRequest =
  | { type: "setup"; setup: WorkerSetup }
  | { type: "gradients"; x: Float32Array; shape: number[]; labels: Int32Array }
  | { type: "apply"; gradients: Float32Array; learningRate: number }
  | { type: "getWeights" }
  | { type: "setWeights"; weights: Float32Array[] };

export type WorkerReply =
  | { type: "ready"; description: string }
  | { type: "gradients"; gradients: Float32Array; loss: number; count: number }
  | { type: "applied" }
  | { type: "weights"; weights: Float32Array[]; trainable: boolean[] }
  | { type: "error"; message: string };
