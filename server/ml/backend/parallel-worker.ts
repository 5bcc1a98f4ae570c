// One replica of data-parallel training: its own backend and copy of the model. Each request
// brings a share of a batch; the main thread has written the current weights into shared memory.
// The replica loads them, computes the gradients of its share's loss and writes them back, with
// its non-trainable weights as the forward pass left them.
import { parentPort } from "node:worker_threads";
import { pathToFileURL } from "node:url";
import * as tf from "@tensorflow/tfjs";
import { initBackend } from "./index";
import type { ReplicaTargets, ReplicaTask, WorkerReply, WorkerRequest, WorkerSetup } from "./parallel-protocol";

if (!parentPort) throw new Error("parallel-worker.ts must run in a worker thread");
const port = parentPort;

interface Replica {
  model: tf.LayersModel;
  task: ReplicaTask;
  trainable: tf.Variable[];
  /** Views of the shared weight buffer, one per model.weights entry. */
  weightViews: Float32Array[];
  /** Views of the shared gradient buffer, one per trainable weight. */
  gradientViews: Float32Array[];
  nonTrainable: number[];
}

let replica: Replica | null = null;

function viewsOf(buffer: SharedArrayBuffer, shapes: number[][]): Float32Array[] {
  const all = new Float32Array(buffer);
  let offset = 0;
  return shapes.map((shape) => {
    const size = shape.reduce((a, b) => a * b, 1);
    const view = all.subarray(offset, offset + size);
    offset += size;
    return view;
  });
}

const asUrl = (module: string) => (module.startsWith("file:") ? module : pathToFileURL(module).href);

function reset(): void {
  replica?.model.dispose();
  replica = null;
}

async function setUp(setup: WorkerSetup): Promise<string> {
  reset();
  const info = await initBackend(setup.device);
  for (const module of setup.setupModules) await import(asUrl(module));
  const taskModule = (await import(asUrl(setup.task.module))) as { createReplicaTask?: (options: unknown) => ReplicaTask };
  if (typeof taskModule.createReplicaTask !== "function") throw new Error(`${setup.task.module} does not export createReplicaTask`);
  const model = await tf.models.modelFromJSON(JSON.parse(setup.modelJson));
  const trainableSet = new Set(model.trainableWeights);
  replica = {
    model,
    task: taskModule.createReplicaTask(setup.task.options),
    trainable: model.trainableWeights.map((w) => w.read() as tf.Variable),
    weightViews: viewsOf(setup.weights, model.weights.map((w) => w.shape as number[])),
    gradientViews: viewsOf(setup.gradients, model.trainableWeights.map((w) => w.shape as number[])),
    nonTrainable: model.weights.flatMap((w, i) => (trainableSet.has(w) ? [] : [i])),
  };
  return info.description;
}

function gradients(r: Replica, x: Float32Array, shape: number[], targets: ReplicaTargets): WorkerReply {
  const weights = r.model.weights;
  // Copies: the CPU backend would keep the shared views themselves as tensor storage.
  tf.tidy(() => r.model.setWeights(r.weightViews.map((values, i) => tf.tensor(values.slice(), weights[i].shape as number[]))));
  const { value, grads, metrics } = tf.tidy(() => {
    const xs = tf.tensor(x, shape);
    let outputs: tf.Tensor | tf.Tensor[] = [];
    const result = tf.variableGrads(() => {
      const out = r.model.apply(xs, { training: true }) as tf.Tensor | tf.Tensor[];
      outputs = Array.isArray(out) ? out.map((t) => tf.keep(t)) : tf.keep(out);
      return r.task.loss(out, targets);
    }, r.trainable);
    const shareMetrics = r.task.metrics?.(outputs, targets) ?? {};
    tf.dispose(outputs);
    return { ...result, metrics: shareMetrics };
  });
  r.trainable.forEach((variable, i) => r.gradientViews[i].set(grads[variable.name].dataSync() as Float32Array));
  for (const i of r.nonTrainable) r.weightViews[i].set(weights[i].read().dataSync() as Float32Array);
  const numbers = Object.fromEntries(Object.entries(metrics).map(([name, scalar]) => [name, scalar.dataSync()[0]]));
  const loss = value.dataSync()[0];
  tf.dispose([value, ...Object.values(grads), ...Object.values(metrics)]);
  return { type: "gradients", loss, metrics: numbers };
}

async function handle(request: WorkerRequest): Promise<WorkerReply> {
  if (request.type === "setup") return { type: "ready", description: await setUp(request.setup) };
  if (request.type === "reset") {
    reset();
    return { type: "reset" };
  }
  if (!replica) throw new Error(`worker received "${request.type}" before "setup"`);
  return gradients(replica, request.x, request.shape, request.targets);
}

// Requests are handled one at a time, in order: the main thread awaits each reply.
let queue = Promise.resolve();
port.on("message", (request: WorkerRequest) => {
  queue = queue.then(async () => {
    try {
      port.postMessage(await handle(request));
    } catch (error) {
      port.postMessage({ type: "error", message: (error as Error).stack ?? String(error) } satisfies WorkerReply);
    }
  });
});
