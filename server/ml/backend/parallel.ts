// Data-parallel training on this host's cores: WASM runs one thread per backend, so each worker
// thread holds a replica with its own WASM backend. A step splits the batch between the replicas,
// averages their gradients (weighted by share) and has every replica apply the same update.
import os from "node:os";
import { createRequire } from "node:module";
import { pathToFileURL } from "node:url";
import { Worker } from "node:worker_threads";
import * as tf from "@tensorflow/tfjs";
import type { ClassificationLoss, OptimizerConfig, WorkerReply, WorkerRequest } from "./parallel-protocol";

export type { ClassificationLoss, OptimizerConfig } from "./parallel-protocol";

export interface ParallelStepperOptions {
  /** The model to train; its topology and current weights are copied into each worker. */
  model: tf.LayersModel;
  numClasses: number;
  optimizer: OptimizerConfig;
  loss?: ClassificationLoss;
  labelSmoothing?: number;
  /** Worker threads (replicas); defaults to the number of cores. */
  workers?: number;
  /** Absolute paths or file URLs of modules that register custom layer classes (imported in each worker first). */
  setupModules?: string[];
}

export interface ParallelStepper {
  readonly workers: number;
  /** Backend of the replicas, e.g. "wasm (SIMD, 1 thread, custom gradient kernels) × 2 workers". */
  readonly description: string;
  /** x: NHWC float32 [size, imgsz, imgsz, 3] values; labels: class ids. Returns the batch's mean loss. */
  step(x: Float32Array, labels: Int32Array, opts?: { learningRate?: number }): Promise<{ loss: number }>;
  /**
   * All weights in model.getWeights() order: trainable ones from the first replica (all replicas hold
   * the same), non-trainable ones (BatchNorm moving statistics, updated from each replica's share) averaged.
   */
  getWeights(): Promise<Float32Array[]>;
  setWeights(weights: Float32Array[]): Promise<void>;
  close(): Promise<void>;
}

export class ParallelWorkerError extends Error {
  constructor(worker: number, message: string) {
    super(`training worker ${worker}: ${message}`);
    this.name = "ParallelWorkerError";
  }
}

class Replica {
  private pending: { resolve(reply: WorkerReply): void; reject(error: Error): void } | null = null;
  private failure: Error | null = null;

  constructor(
    private readonly worker: Worker,
    private readonly index: number,
  ) {
    worker.on("message", (reply: WorkerReply) => {
      const pending = this.pending;
      this.pending = null;
      if (reply.type === "error") pending?.reject(new ParallelWorkerError(index, reply.message));
      else pending?.resolve(reply);
    });
    worker.on("error", (error) => this.fail(error));
    worker.on("exit", (code) => this.fail(new ParallelWorkerError(index, `exited with code ${code}`)));
  }

  private fail(error: Error): void {
    this.failure ??= error;
    this.pending?.reject(error);
    this.pending = null;
  }

  request<T extends WorkerReply["type"]>(message: WorkerRequest, expected: T, transfer: ArrayBuffer[] = []): Promise<Extract<WorkerReply, { type: T }>> {
    if (this.failure) return Promise.reject(this.failure);
    if (this.pending) return Promise.reject(new ParallelWorkerError(this.index, "a request is already in flight"));
    return new Promise((resolve, reject) => {
      this.pending = {
        resolve: (reply) =>
          reply.type === expected
            ? resolve(reply as Extract<WorkerReply, { type: T }>)
            : reject(new ParallelWorkerError(this.index, `expected "${expected}", got "${reply.type}"`)),
        reject,
      };
      this.worker.postMessage(message, transfer);
    });
  }

  async terminate(): Promise<void> {
    this.failure ??= new ParallelWorkerError(this.index, "closed");
    await this.worker.terminate();
  }
}

// The worker is TypeScript: a one-line ES module registers tsx's loader, then imports it.
// (`execArgv: ["--import", "tsx"]` does not reach a worker whose entry is a .ts file on Node 20.)
const TSX_ESM_API = pathToFileURL(createRequire(import.meta.url).resolve("tsx/esm/api").replace(/\.cjs$/, ".mjs")).href;
const WORKER_ENTRY = new URL("./parallel-worker.ts", import.meta.url).href;
const BOOTSTRAP = new URL(
  "data:text/javascript," +
    encodeURIComponent(`import { register } from ${JSON.stringify(TSX_ESM_API)}; register(); await import(${JSON.stringify(WORKER_ENTRY)});`),
);

function startWorker(): Worker {
  return new Worker(BOOTSTRAP);
}

/** Starts the worker threads and copies the model into each; resolves once all are ready. */
export async function createParallelStepper(options: ParallelStepperOptions): Promise<ParallelStepper> {
  const count = options.workers ?? os.availableParallelism();
  if (!Number.isInteger(count) || count < 1) throw new Error(`workers must be a positive integer, got ${options.workers}`);
  const weights = options.model.getWeights().map((w) => ({ shape: w.shape, values: w.dataSync() as Float32Array }));
  const modelJson = options.model.toJSON() as string;
  const optimizer = options.optimizer;
  const replicas = Array.from({ length: count }, (_, index) => new Replica(startWorker(), index));
  const closeAll = () => Promise.all(replicas.map((r) => r.terminate())).then(() => undefined);
  let description: string;
  try {
    const ready = await Promise.all(
      replicas.map((replica) =>
        replica.request(
          {
            type: "setup",
            setup: {
              modelJson,
              weights,
              optimizer,
              loss: options.loss ?? "logits",
              labelSmoothing: options.labelSmoothing ?? 0,
              numClasses: options.numClasses,
              setupModules: options.setupModules ?? [],
            },
          },
          "ready",
        ),
      ),
    );
    description = `${ready[0].description} × ${count} worker${count === 1 ? "" : "s"}`;
  } catch (error) {
    await closeAll();
    throw error;
  }

  let learningRate = optimizer.learningRate;

  async function step(x: Float32Array, labels: Int32Array, opts: { learningRate?: number } = {}): Promise<{ loss: number }> {
    const size = labels.length;
    if (size === 0) throw new Error("step: empty batch");
    if (x.length % size !== 0) throw new Error(`step: x has ${x.length} values, not a multiple of the batch size ${size}`);
    const perImage = x.length / size;
    const side = Math.round(Math.sqrt(perImage / 3));
    if (side * side * 3 !== perImage) throw new Error(`step: images of ${perImage} values are not square RGB (imgsz × imgsz × 3)`);
    if (opts.learningRate !== undefined) learningRate = opts.learningRate;

    // Contiguous shares, the first ones one image larger when the batch does not divide evenly.
    const active = Math.min(count, size);
    const shares = Array.from({ length: active }, (_, i) => Math.floor(size / active) + (i < size % active ? 1 : 0));
    let start = 0;
    const replies = await Promise.all(
      shares.map((share, i) => {
        const xs = x.slice(start * perImage, (start + share) * perImage);
        const ys = labels.slice(start, start + share);
        start += share;
        return replicas[i].request({ type: "gradients", x: xs, shape: [share, side, side, 3], labels: ys }, "gradients", [xs.buffer, ys.buffer]);
      }),
    );
    const averaged = new Float32Array(replies[0].gradients.length);
    let loss = 0;
    for (const reply of replies) {
      const weight = reply.count / size;
      loss += reply.loss * weight;
      for (let i = 0; i < averaged.length; i++) averaged[i] += reply.gradients[i] * weight;
    }
    await Promise.all(
      replicas.map((replica, i) => {
        const gradients = i === replicas.length - 1 ? averaged : averaged.slice();
        return replica.request({ type: "apply", gradients, learningRate }, "applied", [gradients.buffer]);
      }),
    );
    return { loss };
  }

  async function getWeights(): Promise<Float32Array[]> {
    const all = await Promise.all(replicas.map((replica) => replica.request({ type: "getWeights" }, "weights")));
    return all[0].weights.map((values, w) => {
      if (all[0].trainable[w]) return values;
      const mean = new Float32Array(values.length);
      for (const reply of all) for (let i = 0; i < mean.length; i++) mean[i] += reply.weights[w][i] / all.length;
      return mean;
    });
  }

  async function setWeights(newWeights: Float32Array[]): Promise<void> {
    await Promise.all(replicas.map((replica) => replica.request({ type: "setWeights", weights: newWeights }, "applied")));
  }

  return { workers: count, description, step, getWeights, setWeights, close: closeAll };
}
