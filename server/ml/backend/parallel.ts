// Data-parallel gradients on this host's cores. WASM runs one thread per backend, so each worker
// thread holds a replica of the model with its own backend. Before every step the main thread
// copies its current weights into each replica's shared memory; the replica computes the loss
// gradients of its share of the batch and writes them back beside its updated non-trainable
// weights (BatchNorm moving statistics). The caller combines them and applies the update.
import { createRequire } from "node:module";
import { pathToFileURL } from "node:url";
import { Worker } from "node:worker_threads";
import * as tf from "@tensorflow/tfjs";
import type { Device } from "./index";
import type { ReplicaTargets, ReplicaTaskSpec, WorkerReply, WorkerRequest } from "./parallel-protocol";

export type { ReplicaTask, ReplicaTargets, ReplicaTaskSpec } from "./parallel-protocol";

export interface GradientReplicasOptions {
  /** The model to replicate; only its topology is copied here, weights go with every step. */
  model: tf.LayersModel;
  /** The main thread's device (a single-threaded backend: wasm or cpu). */
  device: Device;
  task: ReplicaTaskSpec;
  /** Worker threads. */
  count: number;
  /** Absolute paths or file URLs of modules that register custom layer classes (imported in each worker first). */
  setupModules?: string[];
}

export interface ShareInput {
  /** NHWC float32 values of the share's images. */
  x: Float32Array;
  shape: number[];
  targets: ReplicaTargets;
}

export interface ShareResult {
  loss: number;
  metrics: Record<string, number>;
  /** One view per model.trainableWeights entry; valid until the next compute(). */
  gradients: Float32Array[];
  /** One view per non-trainable weight (model.weights order), after the replica's forward pass; valid until the next compute(). */
  nonTrainable: Float32Array[];
}

export interface GradientReplicas {
  readonly count: number;
  /** Backend of the replicas, e.g. "wasm (SIMD, 1 thread, custom gradient kernels)". */
  readonly description: string;
  /**
   * Copies the model's current weights to replica i for each shares[i] (synchronously, before
   * returning, so the caller may go on training its own copy) and computes the shares' gradients.
   */
  compute(model: tf.LayersModel, shares: ShareInput[]): Promise<ShareResult[]>;
  close(): Promise<void>;
}

export class ParallelWorkerError extends Error {
  constructor(worker: number, message: string) {
    super(`training worker ${worker}: ${message}`);
    this.name = "ParallelWorkerError";
  }
}

/** Offsets of each weight inside one flat buffer. */
interface FlatLayout {
  offsets: number[];
  sizes: number[];
  total: number;
}

function flatLayout(variables: tf.LayerVariable[]): FlatLayout {
  const sizes = variables.map((v) => (v.shape as number[]).reduce((a, b) => a * b, 1));
  const offsets: number[] = [];
  let total = 0;
  for (const size of sizes) {
    offsets.push(total);
    total += size;
  }
  return { offsets, sizes, total };
}

function views(buffer: Float32Array, layout: FlatLayout, indices = layout.sizes.map((_, i) => i)): Float32Array[] {
  return indices.map((i) => buffer.subarray(layout.offsets[i], layout.offsets[i] + layout.sizes[i]));
}

/** Indices into model.weights of the weights the optimizer does not train. */
export function nonTrainableIndices(model: tf.LayersModel): number[] {
  const trainable = new Set(model.trainableWeights);
  return model.weights.flatMap((w, i) => (trainable.has(w) ? [] : [i]));
}

/** A worker thread running parallel-worker.ts; requests are answered one at a time, in order. */
class WorkerThread {
  private pending: { resolve(reply: WorkerReply): void; reject(error: Error): void } | null = null;
  private failure: Error | null = null;
  index = 0;

  constructor(private readonly worker: Worker) {
    worker.on("message", (reply: WorkerReply) => {
      const pending = this.pending;
      this.pending = null;
      if (reply.type === "error") pending?.reject(new ParallelWorkerError(this.index, reply.message));
      else pending?.resolve(reply);
    });
    worker.on("error", (error) => this.fail(error));
    worker.on("exit", (code) => this.fail(new ParallelWorkerError(this.index, `exited with code ${code}`)));
  }

  get usable(): boolean {
    return this.failure === null && this.pending === null;
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

  /** An idle thread in the pool must not keep the process alive. */
  setKeepsProcessAlive(alive: boolean): void {
    if (alive) this.worker.ref();
    else this.worker.unref();
  }

  async terminate(): Promise<void> {
    this.failure ??= new ParallelWorkerError(this.index, "closed");
    await this.worker.terminate();
  }
}

/**
 * Threads of closed replica sets, kept for the next training run: starting one (TypeScript
 * loader, TF.js, WASM) takes seconds, rebuilding a model in it milliseconds.
 */
const idleThreads: WorkerThread[] = [];

/**
 * Starts threads ahead of a training run so that their loading (TypeScript loader, TF.js) overlaps
 * with the run's own start (dataset, model); createGradientReplicas then takes them from the pool.
 */
export function prewarmGradientThreads(count: number): void {
  while (idleThreads.length < count) {
    const thread = new WorkerThread(new Worker(BOOTSTRAP));
    thread.setKeepsProcessAlive(false);
    idleThreads.push(thread);
  }
}

function takeThread(index: number): WorkerThread {
  const thread = idleThreads.pop() ?? new WorkerThread(new Worker(BOOTSTRAP));
  thread.index = index;
  thread.setKeepsProcessAlive(true);
  return thread;
}

async function releaseThread(thread: WorkerThread): Promise<void> {
  if (!thread.usable) {
    await thread.terminate();
    return;
  }
  await thread.request({ type: "reset" }, "reset").then(
    () => {
      thread.setKeepsProcessAlive(false);
      idleThreads.push(thread);
    },
    () => thread.terminate(),
  );
}

interface Replica {
  thread: WorkerThread;
  weights: Float32Array;
  gradients: Float32Array;
}

// The worker is TypeScript: a one-line ES module registers tsx's loader, then imports it.
// (`execArgv: ["--import", "tsx"]` does not reach a worker whose entry is a .ts file on Node 20.)
const TSX_ESM_API = pathToFileURL(createRequire(import.meta.url).resolve("tsx/esm/api").replace(/\.cjs$/, ".mjs")).href;
const WORKER_ENTRY = new URL("./parallel-worker.ts", import.meta.url).href;
const BOOTSTRAP = new URL(
  "data:text/javascript," +
    encodeURIComponent(`import { register } from ${JSON.stringify(TSX_ESM_API)}; register(); await import(${JSON.stringify(WORKER_ENTRY)});`),
);

/** Starts the worker threads and builds the model in each; resolves once all are ready. */
export async function createGradientReplicas(options: GradientReplicasOptions): Promise<GradientReplicas> {
  const { model, count } = options;
  if (!Number.isInteger(count) || count < 1) throw new Error(`replica count must be a positive integer, got ${count}`);
  const weightLayout = flatLayout(model.weights);
  const gradientLayout = flatLayout(model.trainableWeights);
  const frozen = nonTrainableIndices(model);
  const replicas: Replica[] = Array.from({ length: count }, (_, index) => ({
    thread: takeThread(index),
    weights: new Float32Array(new SharedArrayBuffer(weightLayout.total * 4)),
    gradients: new Float32Array(new SharedArrayBuffer(gradientLayout.total * 4)),
  }));
  let closed = false;
  const closeAll = async () => {
    if (closed) return;
    closed = true;
    await Promise.all(replicas.map((r) => releaseThread(r.thread)));
  };
  let description: string;
  try {
    const modelJson = model.toJSON() as string;
    const ready = await Promise.all(
      replicas.map((replica) =>
        replica.thread.request(
          {
            type: "setup",
            setup: {
              device: options.device,
              modelJson,
              setupModules: options.setupModules ?? [],
              task: options.task,
              weights: replica.weights.buffer as SharedArrayBuffer,
              gradients: replica.gradients.buffer as SharedArrayBuffer,
            },
          },
          "ready",
        ),
      ),
    );
    description = ready[0].description;
  } catch (error) {
    await closeAll();
    throw error;
  }

  async function compute(current: tf.LayersModel, shares: ShareInput[]): Promise<ShareResult[]> {
    if (closed) throw new Error("compute() after close()");
    if (shares.length > count) throw new Error(`${shares.length} shares for ${count} replicas`);
    const active = replicas.slice(0, shares.length);
    current.weights.forEach((w, i) => {
      const values = w.read().dataSync() as Float32Array;
      for (const replica of active) replica.weights.set(values, weightLayout.offsets[i]);
    });
    const replies = await Promise.all(
      shares.map((share, i) => {
        // Own copies, moved rather than cloned: a view would take its whole underlying buffer along.
        const x = share.x.slice();
        const targets = share.targets.slice();
        return active[i].thread.request({ type: "gradients", x, shape: share.shape, targets }, "gradients", [x.buffer, targets.buffer]);
      }),
    );
    return replies.map((reply, i) => ({
      loss: reply.loss,
      metrics: reply.metrics,
      gradients: views(active[i].gradients, gradientLayout),
      nonTrainable: views(active[i].weights, weightLayout, frozen),
    }));
  }

  return { count, description, compute, close: closeAll };
}
