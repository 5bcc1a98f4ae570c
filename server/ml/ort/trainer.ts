// Training steps on ONNX Runtime: the model's weights live in Float32Arrays (TF.js layout) that
// every session reads as inputs; one session.run per (micro-)batch computes loss and gradients
// (detection's assigner included, ort/assign-graph.ts); clipping and the optimizer are
// typed-array loops. The TF.js model and optimizer stay the record: sync() writes weights, moving
// statistics and optimizer slots back for validation and checkpoints, which therefore look exactly
// like the TF.js engine's.
import { createHash } from "node:crypto";
import os from "node:os";
import * as tf from "@tensorflow/tfjs";
import type { ModelGraph } from "../graph/schema";
import type { DataParallelSupport } from "../train/adapter";
import type { TrainOptimizer, TrainableVariable } from "../train/optimizers";
import { cachedChoice, chooseFormulations, timeSessions, type MeasuredChoice } from "./formulations";
import { clipScale, FlatOptimizer, SLOT_NAMES, squaredNorm, type FlatParam } from "./optimizer";
import { nchwcBlockSize } from "./nchwc";
import { OrtReplicas, type ReplicaOutputs } from "./replicas";
import { inversePermutation, transposeValues, weightLayout, type WeightLayoutMode } from "./weight-layout";
import { createOrtSession, ort, type OrtTarget } from "./session";
import { ortTaskOf, type OrtTask } from "./tasks";
import { buildTrainingGraph, choiceKey, OrtGraphError, ortTrainingSupport, type TrainGraphIo, type WeightInfo } from "./train-graph";

export interface OrtTrainerOptions<B extends { size: number }> {
  model: tf.LayersModel;
  graph: ModelGraph;
  inputShape: [number, number, number];
  adapter: { readonly dataParallel?: DataParallelSupport<B> };
  optimizer: TrainOptimizer;
  trainable: TrainableVariable[];
  clipGrad: number;
  /** Images per session.run; a larger batch accumulates the gradients of several runs. */
  microBatch: number;
  target: OrtTarget;
  /** Formulation choice: measured (cached per host and shape) or each point's first candidate. */
  formulations?: "measure" | "first";
  /** Where measured choices are cached (default: the OS cache folder; null: memory only). */
  cacheDir?: string | null;
  log?: (message: string) => void;
}

export interface StepTimings {
  /** Milliseconds inside session.run, and in everything else of step() (feeds, accumulation, clipping, optimizer). */
  runMs: number;
  jsMs: number;
  steps: number;
}

/** Weights (values) up to which data-parallel replicas pay: every step copies them to each replica. */
const MAX_REPLICATED_WEIGHTS = 4_000_000;

/** Conv kernels stay OIHW in the trainer: no transposes in or out of the graphs each step. */
const WEIGHT_LAYOUT: WeightLayoutMode = "onnx";

export function weightInfosOf(model: tf.LayersModel): WeightInfo[] {
  const trainable = new Set(model.trainableWeights.map((w) => w.originalName));
  return model.weights.map((w) => ({ name: w.originalName, shape: (w.shape as number[]).slice(), trainable: trainable.has(w.originalName) }));
}

/** Why `model` cannot train on ONNX Runtime (the reason the run log gives for falling back), or null. */
export function ortTrainerSupport(opts: { model: tf.LayersModel; graph?: ModelGraph; inputShape: [number, number, number]; adapter: { readonly dataParallel?: DataParallelSupport<{ size: number }> } }): string | null {
  if (!opts.graph) return "the model was not built from a layer graph";
  const task = ortTaskOf(opts.adapter);
  if (typeof task === "string") return task;
  const reason = ortTrainingSupport(opts.graph, opts.inputShape);
  if (reason) return reason;
  try {
    buildTrainingGraph({ graph: opts.graph, inputShape: opts.inputShape, batch: 1, weights: weightInfosOf(opts.model), loss: task.loss });
  } catch (error) {
    if (error instanceof OrtGraphError) return error.message;
    throw error;
  }
  return null;
}

type PassOutputs = ReplicaOutputs | ort.InferenceSession.ReturnType;

interface SizedSession {
  io: TrainGraphIo;
  session: ort.InferenceSession;
  masks: { input: string; rate: number; seed: number; values: Float32Array; tensor: ort.Tensor }[];
}

/** FNV-1a of a string: a per-node seed. */
function hashString(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) hash = Math.imul(hash ^ text.charCodeAt(i), 0x01000193) >>> 0;
  return hash;
}

/**
 * A dropout mask, 0 with probability `rate` and 1/(1 − rate) otherwise, as tf.dropout draws it
 * (floor(u + keep) / keep), from a seeded generator (mulberry32): the same step gives the same mask,
 * so a resumed run draws what an uninterrupted one would.
 */
export function fillDropoutMask(values: Float32Array, rate: number, seed: number): void {
  const keep = 1 - rate;
  const scale = 1 / keep;
  let state = seed >>> 0;
  for (let i = 0; i < values.length; i++) {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    const u = ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    values[i] = u + keep >= 1 ? scale : 0;
  }
}

export class OrtTrainer<B extends { size: number }> {
  private readonly weights: { info: WeightInfo; values: Float32Array; tensor: ort.Tensor }[];
  private readonly byName: Map<string, { info: WeightInfo; values: Float32Array; tensor: ort.Tensor }>;
  private readonly params: FlatParam[];
  private readonly flat: FlatOptimizer;
  private readonly sessions = new Map<number, Promise<SizedSession>>();
  private readonly replicas = new Map<number, Promise<OrtReplicas | null>>();
  private readonly inference = new Map<number, Promise<{ io: TrainGraphIo; session: ort.InferenceSession }>>();
  private readonly task: OrtTask;
  private readonly support: DataParallelSupport<B>;
  private choices: Map<string, string> | undefined;
  private choicesPending: Promise<Map<string, string>> | undefined;
  private dirty = false;
  /** The channel block of ONNX Runtime's NCHWc kernels here (0: none), probed in create(). */
  private nchwcBlock = 0;
  readonly timings: StepTimings = { runMs: 0, jsMs: 0, steps: 0 };
  /** Formulations chosen for the graph, by choice point. */
  readonly measured = new Map<string, MeasuredChoice>();

  private constructor(private readonly opts: OrtTrainerOptions<B>) {
    const task = ortTaskOf(opts.adapter);
    if (typeof task === "string") throw new OrtGraphError(task);
    this.task = task;
    this.support = opts.adapter.dataParallel!;
    // Weights (and optimizer slots) in the layout the graphs read (weight-layout.ts); TF.js's again at sync().
    this.weights = weightInfosOf(opts.model).map((info, i) => {
      const perm = weightLayout(info, WEIGHT_LAYOUT);
      const tfValues = opts.model.weights[i].read().dataSync() as Float32Array;
      const values = perm ? transposeValues(tfValues, info.shape, perm) : Float32Array.from(tfValues);
      return { info, values, tensor: new ort.Tensor("float32", values, perm ? perm.map((axis) => info.shape[axis]) : info.shape) };
    });
    this.byName = new Map(this.weights.map((w) => [w.info.name, w]));
    this.params = opts.trainable.map((t) => {
      const weight = this.byName.get(t.key);
      if (!weight) throw new OrtGraphError(`trainable variable ${t.key} is not a weight of the model`);
      return { key: t.key, values: weight.values, decay: t.decay };
    });
    this.flat = new FlatOptimizer(opts.optimizer.settings);
    const state = opts.optimizer.getState();
    this.flat.setState(
      state.step,
      state.slots.map((s) => [s.name, this.toGraphLayout(s.name, s.tensor.dataSync() as Float32Array)] as [string, Float32Array]),
    );
  }

  /**
   * Builds the trainer; with `batch`, also the session for batches of that size (formulations
   * measured or read from the cache), else sessions are made at the first step of each size.
   */
  static async create<B extends { size: number }>(opts: OrtTrainerOptions<B>, batch?: number): Promise<OrtTrainer<B>> {
    const trainer = new OrtTrainer(opts);
    if (opts.target.provider === "cpu") trainer.nchwcBlock = await nchwcBlockSize({ ...opts.target, threads: 1 });
    if (batch !== undefined) await trainer.sessionFor(microBatchSizes(batch, opts.microBatch)[0]);
    return trainer;
  }

  private request(batch: number) {
    return {
      graph: this.opts.graph,
      inputShape: this.opts.inputShape,
      batch,
      weights: this.weights.map((w) => w.info),
      loss: this.task.loss,
      provider: this.opts.target.provider,
      nchwcBlock: this.nchwcBlock,
      weightLayout: WEIGHT_LAYOUT,
    };
  }

  /** One measurement for the whole run, at the first batch size asked for; other sizes reuse its choices. */
  private async formulationChoices(batch: number): Promise<Map<string, string>> {
    if (this.choices) return this.choices;
    this.choicesPending ??= (async () => {
      if (this.opts.formulations === "first") return new Map<string, string>();
      const { points } = buildTrainingGraph(this.request(batch));
      const measured = await chooseFormulations(points, { target: this.opts.target, cacheDir: this.opts.cacheDir, log: this.opts.log });
      for (const [key, choice] of measured) this.measured.set(key, choice);
      // Same layer shapes at other batch sizes: match choices by everything but the batch.
      return new Map([...measured].map(([key, choice]) => [batchFreeKey(key), choice.choice]));
    })();
    return this.choicesPending.then((choices) => (this.choices = choices));
  }

  private sessionFor(batch: number): Promise<SizedSession> {
    let pending = this.sessions.get(batch);
    if (!pending) {
      pending = (async () => {
        const byShape = await this.formulationChoices(batch);
        const choices = new Map<string, string>();
        for (const point of buildTrainingGraph(this.request(batch)).points) {
          const key = choiceKey(point);
          const choice = byShape.get(batchFreeKey(key));
          if (choice) choices.set(key, choice);
        }
        const io = buildTrainingGraph({ ...this.request(batch), choices });
        const session = await this.sessionOfGraph(io, batch);
        const masks = io.masks.map((m) => {
          const values = new Float32Array(m.dims.reduce((a, b) => a * b, 1));
          return { input: m.input, rate: m.rate, seed: hashString(m.input), values, tensor: new ort.Tensor("float32", values, m.dims) };
        });
        return { session, io, masks };
      })();
      this.sessions.set(batch, pending);
      pending.catch(() => this.sessions.delete(batch));
    }
    return pending;
  }

  /**
   * The session of a training graph with the faster optimisation level for it: ORT's "all" adds
   * layout transformations that help some graphs and slow others (measured: "extended" ~15% faster on
   * the reference CNN here), so both are timed once per graph shape and host, and the choice is cached.
   */
  private async sessionOfGraph(io: TrainGraphIo, batch: number): Promise<ort.InferenceSession> {
    const open = (level: "extended" | "all") => createOrtSession(io.bytes, { ...this.opts.target, graphOptimizationLevel: level });
    const level = this.opts.target.graphOptimizationLevel;
    if (level || this.opts.formulations === "first") return open(level ?? "extended");
    const key = `session-level:${createHash("sha1").update(io.bytes).digest("hex").slice(0, 16)}`;
    const opened = new Map<string, ort.InferenceSession>();
    const choice = await cachedChoice(key, { target: this.opts.target, cacheDir: this.opts.cacheDir, log: this.opts.log }, async () => {
      for (const candidate of ["extended", "all"] as const) opened.set(candidate, await open(candidate));
      const feeds = { ...this.placeholderFeeds(io, batch), ...this.task.placeholderTargets(io, batch) };
      return timeSessions([...opened].map(([name, session]) => ({ name, run: () => session.run(feeds) })));
    });
    const chosen = opened.get(choice.choice) ?? (await open(choice.choice as "extended" | "all"));
    for (const [name, session] of opened) if (name !== choice.choice) await session.release();
    return chosen;
  }

  /** Feeds for timing a graph: the current weights, a batch of 0.5, masks of ones. */
  private placeholderFeeds(io: TrainGraphIo, batch: number): Record<string, ort.Tensor> {
    const feeds: Record<string, ort.Tensor> = {
      [io.imageInput]: new ort.Tensor("float32", new Float32Array(batch * this.opts.inputShape.reduce((a, b) => a * b, 1)).fill(0.5), [batch, ...this.opts.inputShape]),
    };
    for (const name of io.weightInputs) feeds[name] = this.byName.get(name)!.tensor;
    for (const m of io.masks) feeds[m.input] = new ort.Tensor("float32", new Float32Array(m.dims.reduce((a, b) => a * b, 1)).fill(1), m.dims);
    return feeds;
  }


  private inferenceSession(images: number): Promise<{ io: TrainGraphIo; session: ort.InferenceSession }> {
    let pending = this.inference.get(images);
    if (!pending) {
      pending = (async () => {
        const io = buildTrainingGraph({ ...this.request(images), training: false });
        return { io, session: await createOrtSession(io.bytes, { ...this.opts.target, graphOptimizationLevel: this.opts.target.graphOptimizationLevel ?? "all" }) };
      })();
      this.inference.set(images, pending);
      pending.catch(() => this.inference.delete(images));
    }
    return pending;
  }

  /**
   * The model's inference-mode output (BatchNorm on its moving statistics, no dropout) for NHWC
   * images, on the weights as trained so far: validation without copying them into TF.js first.
   */
  async predict(x: Float32Array, images: number): Promise<Float32Array> {
    const { io, session } = await this.inferenceSession(images);
    const feeds: Record<string, ort.Tensor> = { [io.imageInput]: new ort.Tensor("float32", x, [images, ...this.opts.inputShape]) };
    for (const name of io.weightInputs) feeds[name] = this.byName.get(name)!.tensor;
    const out = await session.run(feeds);
    return out[io.logitsOutput].data as Float32Array;
  }

  /** Trains on one batch; resolves to its mean loss, the loss parts and the task's training metrics. */
  async step(batch: B, lr: number): Promise<Record<string, number>> {
    const started = performance.now();
    let runMs = 0;
    const replicas = await this.replicasFor(batch.size);
    const sizes = replicas ? new Array<number>(replicas.count).fill(batch.size / replicas.count) : microBatchSizes(batch.size, this.opts.microBatch);
    let grads: Float32Array[] | undefined;
    let squared = 0;
    const totals: Record<string, number> = {};
    let start = 0;
    // Replicas run their shares at once (feeds are copied when posted); micro-batches one after another.
    const passes: { size: number; io: TrainGraphIo; input: ReturnType<DataParallelSupport<B>["replicaInput"]>; out: Promise<PassOutputs> }[] = [];
    const dispatched = performance.now();
    for (const [pass, size] of sizes.entries()) {
      const part = sizes.length === 1 ? batch : this.support.slice(batch, start, start + size);
      start += size;
      const input = this.support.replicaInput(part);
      const sized = await this.sessionFor(size);
      const { io } = sized;
      const feeds: Record<string, ort.Tensor> = { [io.imageInput]: new ort.Tensor("float32", input.x, [size, ...this.opts.inputShape]) };
      for (const name of io.weightInputs) feeds[name] = this.byName.get(name)!.tensor;
      for (const mask of sized.masks) {
        fillDropoutMask(mask.values, mask.rate, (mask.seed ^ Math.imul(this.flat.step + 1, 0x9e3779b1) ^ Math.imul(pass + 1, 0x85ebca6b)) >>> 0);
        feeds[mask.input] = mask.tensor;
      }
      Object.assign(feeds, this.task.targets(io, input, size));
      const t0 = performance.now();
      const out: Promise<PassOutputs> = replicas ? replicas.run(pass, feeds) : Promise.resolve(await sized.session.run(feeds));
      if (!replicas) runMs += performance.now() - t0;
      passes.push({ size, io, input, out });
    }
    const outs = await Promise.all(passes.map((p) => p.out));
    if (replicas) runMs += performance.now() - dispatched;
    for (const [pass, { size, io, input }] of passes.entries()) {
      const out = outs[pass];
      const share = size / batch.size;
      const values: Record<string, number> = Object.fromEntries(Object.entries(io.lossOutputs).map(([name, output]) => [name, (out[output].data as Float32Array)[0]]));
      Object.assign(values, this.task.metrics(out[io.logitsOutput].data as Float32Array, input));
      for (const [name, value] of Object.entries(values)) totals[name] = (totals[name] ?? 0) + value * share;
      const partGrads = io.grads.map((g) => out[g.output].data as Float32Array);
      if (sizes.length === 1) {
        grads = partGrads;
        squared = (out[io.gradSquaredNorm].data as Float32Array)[0];
      } else {
        grads ??= partGrads.map((g) => new Float32Array(g.length));
        partGrads.forEach((g, p) => {
          const sum = grads![p];
          for (let i = 0; i < g.length; i++) sum[i] += g[i] * share;
        });
      }
      // Moving averages as TF.js updates them: moving ← moving − (moving − batch)·(1 − momentum), pass by pass.
      for (const m of io.movingAverages) {
        const current = this.byName.get(m.weight)!.values;
        const batchValue = out[m.output].data as Float32Array;
        const rate = 1 - m.momentum;
        for (let i = 0; i < current.length; i++) current[i] -= (current[i] - batchValue[i]) * rate;
      }
    }
    const ordered = this.gradsInParamOrder(grads!, await this.sessionFor(sizes[0]));
    // One pass: the graph gave Σ g² (accumulated micro-batches need it summed here), the optimizer scales.
    if (sizes.length > 1 && this.opts.clipGrad > 0) squared = squaredNorm(ordered);
    this.flat.apply(this.params, ordered, lr, clipScale(squared, this.opts.clipGrad));
    this.dirty = true;
    this.timings.runMs += runMs;
    this.timings.jsMs += performance.now() - started - runMs;
    this.timings.steps += 1;
    return totals;
  }

  /**
   * Replicas for batches of `size` (replicas.ts): on the CPU with two or more cores, for classifiers
   * whose samples do not interact (no moving statistics: no BatchNorm) and whose weights are cheap to
   * post every step, even batches without explicit micro-batches; else null (one session on every core).
   */
  private replicasFor(size: number): Promise<OrtReplicas | null> {
    let pending = this.replicas.get(size);
    if (!pending) {
      const { target, microBatch } = this.opts;
      const cores = target.threads ?? os.availableParallelism();
      const count = Math.min(cores, 2);
      const weights = this.weights.reduce((sum, w) => sum + w.values.length, 0);
      const fits = target.provider === "cpu" && count > 1 && this.task.loss.kind === "classify" && size % count === 0 && microBatch >= size && weights <= MAX_REPLICATED_WEIGHTS;
      pending = !fits
        ? Promise.resolve(null)
        : this.sessionFor(size / count).then(({ io }) => (io.movingAverages.length > 0 ? null : OrtReplicas.start(count, io.bytes, { ...target, graphOptimizationLevel: target.graphOptimizationLevel ?? "extended" })));
      this.replicas.set(size, pending);
    }
    return pending;
  }

  private gradsInParamOrder(grads: Float32Array[], sized: SizedSession): Float32Array[] {
    const index = new Map(sized.io.grads.map((g, i) => [g.weight, i]));
    return this.params.map((p) => {
      const i = index.get(p.key);
      if (i === undefined) throw new OrtGraphError(`the training graph has no gradient for ${p.key}`);
      return grads[i];
    });
  }

  /** Writes weights, moving statistics and the optimizer state into the TF.js model and optimizer. */
  sync(): void {
    if (!this.dirty) return;
    const { model, optimizer, trainable } = this.opts;
    tf.tidy(() => {
      model.weights.forEach((variable, i) => variable.write(tf.tensor(this.toTfLayout(this.weights[i].info, this.weights[i].values), this.weights[i].info.shape)));
    });
    const state = this.flat.getState();
    const slots = [...state.slots].map(([name, values]) => {
      const info = this.byName.get(name.slice(0, name.lastIndexOf("/")))!.info;
      return { name, tensor: tf.tensor(this.toTfLayout(info, values), info.shape) };
    });
    try {
      optimizer.setState({ name: optimizer.name, step: state.step, slots }, trainable);
    } finally {
      tf.dispose(slots.map((s) => s.tensor));
    }
    this.dirty = false;
  }

  /** A copy of a weight's (or its slot's) values in TF.js's layout. */
  private toTfLayout(info: WeightInfo, values: Float32Array): Float32Array {
    const perm = weightLayout(info, WEIGHT_LAYOUT);
    return perm ? transposeValues(values, perm.map((axis) => info.shape[axis]), inversePermutation(perm)) : values.slice();
  }

  /** An optimizer slot `<weight key>/<slot>` from TF.js's layout into the graphs'. */
  private toGraphLayout(slot: string, values: Float32Array): Float32Array {
    const info = this.byName.get(slot.slice(0, slot.lastIndexOf("/")))?.info;
    const perm = info && weightLayout(info, WEIGHT_LAYOUT);
    return perm ? transposeValues(values, info.shape, perm) : values;
  }

  /** Describes what the graphs chose, for the run log. */
  describe(): string {
    const counts = new Map<string, number>();
    for (const [key, choice] of this.measured) {
      const kind = key.split(":")[0];
      counts.set(`${kind} ${choice.choice}`, (counts.get(`${kind} ${choice.choice}`) ?? 0) + 1);
    }
    return [...counts].map(([what, n]) => `${what} ×${n}`).join(", ");
  }

  async close(): Promise<void> {
    const replicas = await Promise.allSettled(this.replicas.values());
    this.replicas.clear();
    await Promise.all(replicas.map((r) => (r.status === "fulfilled" ? r.value?.close() : undefined)));
    const sessions = await Promise.allSettled(this.sessions.values());
    this.sessions.clear();
    const inference = await Promise.allSettled(this.inference.values());
    this.inference.clear();
    await Promise.all(inference.map((s) => (s.status === "fulfilled" ? s.value.session.release() : undefined)));
    await Promise.all(sessions.map((s) => (s.status === "fulfilled" ? s.value.session.release() : undefined)));
  }

  /** Slot names this optimizer keeps per weight (for tests). */
  static slotNames(name: TrainOptimizer["name"]): string[] {
    return SLOT_NAMES[name];
  }
}

/** Micro-batch sizes of one batch: as few passes of at most `microBatch` images as possible, contiguous, near-equal. */
export function microBatchSizes(size: number, microBatch: number): number[] {
  const passes = Math.max(1, Math.ceil(size / Math.max(1, microBatch)));
  return Array.from({ length: passes }, (_, i) => Math.floor(size / passes) + (i < size % passes ? 1 : 0));
}

/** A choice key with the batch size left out: the same layer shape at another batch size reuses the choice. */
function batchFreeKey(key: string): string {
  return key.replace(/:n\d+c/, ":n*c");
}
