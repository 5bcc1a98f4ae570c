// One replica of data-parallel training: its own WASM backend and copy of the model. It computes
// gradients on its share of each batch and applies the averaged gradients it is sent, so every
// replica performs the same update and stays identical.
import { parentPort } from "node:worker_threads";
import { pathToFileURL } from "node:url";
import * as tf from "@tensorflow/tfjs";
import { initBackend } from "./index";
import type { OptimizerConfig, WorkerReply, WorkerRequest, WorkerSetup } from "./parallel-protocol";

if (!parentPort) throw new Error("parallel-worker.ts must run in a worker thread");
const port = parentPort;

interface Replica {
  model: tf.LayersModel;
  optimizer: TunableOptimizer;
  variables: tf.Variable[];
  setup: WorkerSetup;
}

let replica: Replica | null = null;

type TunableOptimizer = tf.Optimizer & { learningRate: number };

function createOptimizer(config: OptimizerConfig): TunableOptimizer {
  // Every TF.js optimizer keeps its rate in a public `learningRate` field that later steps read.
  switch (config.name) {
    case "sgd":
      return tf.train.sgd(config.learningRate) as unknown as TunableOptimizer;
    case "momentum":
      return tf.train.momentum(config.learningRate, config.momentum, config.nesterov ?? false) as unknown as TunableOptimizer;
    case "adam":
      return tf.train.adam(config.learningRate, config.beta1, config.beta2, config.epsilon) as unknown as TunableOptimizer;
    case "rmsprop":
      return tf.train.rmsprop(config.learningRate, config.decay, config.momentum, config.epsilon) as unknown as TunableOptimizer;
  }
}

async function setUp(setup: WorkerSetup): Promise<string> {
  const info = await initBackend("wasm");
  for (const module of setup.setupModules) await import(module.startsWith("file:") ? module : pathToFileURL(module).href);
  const model = await tf.models.modelFromJSON(JSON.parse(setup.modelJson));
  tf.tidy(() => model.setWeights(setup.weights.map((w) => tf.tensor(w.values, w.shape))));
  replica = { model, optimizer: createOptimizer(setup.optimizer), variables: model.trainableWeights.map((w) => w.read() as tf.Variable), setup };
  return info.description;
}

function lossOf(r: Replica, x: tf.Tensor, labels: tf.Tensor1D): tf.Scalar {
  const { numClasses, labelSmoothing, loss } = r.setup;
  const oneHot = tf.oneHot(labels, numClasses).toFloat();
  const output = r.model.apply(x, { training: true }) as tf.Tensor;
  if (loss === "logits") return tf.losses.softmaxCrossEntropy(oneHot, output, undefined, labelSmoothing) as tf.Scalar;
  const targets = labelSmoothing > 0 ? oneHot.mul(1 - labelSmoothing).add(labelSmoothing / numClasses) : oneHot;
  return tf.neg(tf.mean(tf.sum(tf.mul(targets, tf.log(tf.clipByValue(output, 1e-7, 1))), -1))) as tf.Scalar;
}

function gradients(r: Replica, x: Float32Array, shape: number[], labels: Int32Array): WorkerReply {
  const { value, grads } = tf.tidy(() => {
    const xs = tf.tensor(x, shape);
    const ys = tf.tensor1d(labels, "int32");
    return tf.variableGrads(() => lossOf(r, xs, ys), r.variables);
  });
  const flat = new Float32Array(r.variables.reduce((sum, v) => sum + v.size, 0));
  let offset = 0;
  for (const variable of r.variables) {
    flat.set(grads[variable.name].dataSync() as Float32Array, offset);
    offset += variable.size;
  }
  const loss = value.dataSync()[0];
  tf.dispose([value, ...Object.values(grads)]);
  return { type: "gradients", gradients: flat, loss, count: labels.length };
}

function apply(r: Replica, flat: Float32Array, learningRate: number): void {
  r.optimizer.learningRate = learningRate;
  const named: tf.NamedTensorMap = {};
  let offset = 0;
  for (const variable of r.variables) {
    named[variable.name] = tf.tensor(flat.subarray(offset, offset + variable.size), variable.shape);
    offset += variable.size;
  }
  r.optimizer.applyGradients(named);
  tf.dispose(Object.values(named));
}

async function handle(request: WorkerRequest): Promise<WorkerReply> {
  if (request.type === "setup") return { type: "ready", description: await setUp(request.setup) };
  if (!replica) throw new Error(`worker received "${request.type}" before "setup"`);
  switch (request.type) {
    case "gradients":
      return gradients(replica, request.x, request.shape, request.labels);
    case "apply":
      apply(replica, request.gradients, request.learningRate);
      return { type: "applied" };
    case "getWeights": {
      const weights = replica.model.weights;
      return { type: "weights", weights: weights.map((w) => w.read().dataSync() as Float32Array), trainable: weights.map((w) => w.trainable) };
    }
    case "setWeights": {
      const model = replica.model;
      tf.tidy(() => model.setWeights(request.weights.map((values, i) => tf.tensor(values, model.weights[i].shape as number[]))));
      return { type: "applied" };
    }
  }
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
