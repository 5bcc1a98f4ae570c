import * as tf from "@tensorflow/tfjs";
import { readImageFolder, DatasetError, type ClassifyIndex } from "../data/imagefolder";
import { createClassifyLoader, type Batch } from "../data/loader";
import { compileGraph, GraphError, type ModelGraph } from "../graph/index";
import { classificationMetrics } from "../metrics/classify";
import { zooGraph } from "../zoo/index";
import { assertSameClasses, inferenceOutput, registerTaskAdapter, type ModelForward, type TaskAdapter, type TaskLoader, type ValidationResult } from "./adapter";
import type { TrainConfig } from "./config";
import { classificationLoss, CLASSIFY_REPLICA_MODULE, replicaInput, sliceBatch, trainAccuracy, type ClassifyLossOptions } from "./classify-loss";

export { classificationLoss } from "./classify-loss";

const percent = (fraction: number) => `${(fraction * 100).toFixed(2)}%`;

/** True when the model ends in a softmax, i.e. outputs probabilities rather than logits. */
export function outputsProbabilities(model: tf.LayersModel): boolean {
  const last = model.layers[model.layers.length - 1];
  const config = last.getConfig() as { activation?: string };
  return last.getClassName() === "Softmax" || (last.getClassName() === "Activation" && config.activation === "softmax") || config.activation === "softmax";
}

/** Builds the classification model for a config: zoo name or graph, compiled with the run's seed. */
export function buildClassifyModel(model: string | ModelGraph, imgsz: number, classNames: string[], seed: number): { model: tf.LayersModel; graph: ModelGraph } {
  const graph = typeof model === "string" ? zooGraph(model, { imgsz, numClasses: classNames.length }) : model;
  const compiled = compileGraph(graph, { inputShape: [imgsz, imgsz, 3], seed });
  const outputShape = compiled.outputs[0].shape;
  if (compiled.outputs.length !== 1 || outputShape.length !== 2 || outputShape[1] !== classNames.length) {
    const shapes = compiled.outputs.map((o) => `[${o.shape.map((d) => d ?? "N").join(", ")}]`).join(", ");
    compiled.dispose();
    throw new GraphError(
      `the model's output ${shapes} does not fit ${classNames.length} classes (${classNames.join(", ")}): a classifier needs one output [N, ${classNames.length}] (set the last Dense node's units to ${classNames.length})`,
    );
  }
  return { model: compiled, graph };
}

export interface ClassifyEvaluation extends ValidationResult {
  scores: Float32Array;
  labels: Int32Array;
}

/** Loss and classification metrics of `model` over every batch of `loader`. */
export async function evaluateClassifier(
  model: tf.LayersModel,
  loader: TaskLoader<Batch>,
  classNames: string[],
  labelSmoothing = 0,
  forward?: ModelForward,
): Promise<ClassifyEvaluation> {
  const numClasses = classNames.length;
  const probabilities = outputsProbabilities(model);
  const scores = new Float32Array(loader.count * numClasses);
  const labels = new Int32Array(loader.count);
  let seen = 0;
  let lossSum = 0;
  for await (const batch of loader.epoch(0)) {
    const output = await inferenceOutput(model, batch.x, [batch.size, batch.imgsz, batch.imgsz, 3], forward);
    const loss = tf.tidy(() => classificationLoss(output, batch.y, numClasses, labelSmoothing, probabilities));
    scores.set(await output.data(), seen * numClasses);
    labels.set(batch.y, seen);
    lossSum += (await loss.data())[0] * batch.size;
    tf.dispose([output, loss]);
    seen += batch.size;
  }
  const m = classificationMetrics(scores.subarray(0, seen * numClasses), labels.subarray(0, seen), numClasses);
  return {
    scores: scores.subarray(0, seen * numClasses),
    labels: labels.subarray(0, seen),
    metrics: {
      val_loss: seen > 0 ? lossSum / seen : NaN,
      val_acc: m.top1,
      top1_acc: m.top1,
      top3_acc: m.top3,
      top5_acc: m.top5,
      macro_f1: m.macro_f1,
      micro_f1: m.micro_f1,
      precision: m.precision.reduce((a, b) => a + b, 0) / numClasses,
      recall: m.recall.reduce((a, b) => a + b, 0) / numClasses,
    },
    details: { classNames, precision: m.precision, recall: m.recall, confusion: m.confusion, images: seen },
  };
}

export function createClassifyAdapter(): TaskAdapter<Batch> {
  let config: TrainConfig | undefined;
  let classNames: string[] = [];
  let probabilities = false;
  const settings = () => {
    if (!config) throw new Error("classify adapter used before prepare()");
    return config;
  };
  const lossOptions = (): ClassifyLossOptions => ({ numClasses: classNames.length, labelSmoothing: settings().label_smoothing, probabilities });

  return {
    task: "classify",
    bestMetricName: "best_acc",
    resultsColumns: [
      ["train_loss", "train/loss"],
      ["train_acc", "train/acc"],
      ["val_loss", "val/loss"],
      ["top1_acc", "metrics/accuracy_top1"],
      ["top3_acc", "metrics/accuracy_top3"],
      ["top5_acc", "metrics/accuracy_top5"],
      ["macro_f1", "metrics/macro_f1"],
      ["micro_f1", "metrics/micro_f1"],
    ],

    async prepare(runConfig, log, expect) {
      config = runConfig;
      const index: ClassifyIndex = typeof runConfig.data === "string" ? await readImageFolder(runConfig.data, { seed: runConfig.seed }) : runConfig.data;
      classNames = index.classes;
      assertSameClasses(classNames, expect);
      if (classNames.length < 2) {
        throw new DatasetError(`dataset ${index.root} has ${classNames.length === 1 ? `only one class (${classNames[0]})` : "no classes"}; classification needs at least 2 class folders`);
      }
      const trainItems = index.items.filter((item) => item.split === "train");
      const valItems = index.items.filter((item) => item.split === "val");
      if (trainItems.length === 0) throw new DatasetError(`dataset ${index.root} has no training images`);
      if (runConfig.val && valItems.length === 0) log(`dataset ${index.root} has no validation images; validation is skipped`, "warn");
      for (const skipped of index.skipped.slice(0, 20)) log(`skipped ${skipped.path}: ${skipped.reason}`, "warn");
      log(`Dataset ${index.root}: ${trainItems.length} training and ${valItems.length} validation images in ${classNames.length} classes (${classNames.join(", ")})`);

      const { model, graph } = buildClassifyModel(runConfig.model, runConfig.imgsz, classNames, runConfig.seed);
      probabilities = outputsProbabilities(model);
      const cache = runConfig.cache;
      const trainLoader = createClassifyLoader(trainItems, {
        imgsz: runConfig.imgsz,
        batch: runConfig.batch,
        shuffle: true,
        seed: runConfig.seed,
        augment: runConfig.augment,
        cache,
      });
      const valLoader = valItems.length > 0 ? createClassifyLoader(valItems, { imgsz: runConfig.imgsz, batch: runConfig.batch, shuffle: false, seed: runConfig.seed, cache }) : undefined;
      return { model, graph, trainLoader, valLoader, classNames, inputShape: [runConfig.imgsz, runConfig.imgsz, 3] };
    },

    inputs(batch) {
      return tf.tensor4d(batch.x, [batch.size, batch.imgsz, batch.imgsz, 3]);
    },

    loss(outputs, batch) {
      return classificationLoss(outputs as tf.Tensor, batch.y, classNames.length, settings().label_smoothing, probabilities);
    },

    trainMetrics(outputs, batch) {
      return { acc: trainAccuracy(outputs as tf.Tensor, batch.y) };
    },

    dataParallel: {
      replicaTask: () => ({ module: CLASSIFY_REPLICA_MODULE, options: lossOptions() }),
      slice: sliceBatch,
      replicaInput,
    },

    async validate(model, loader, forward) {
      const { metrics, details } = await evaluateClassifier(model, loader, classNames, settings().label_smoothing, forward);
      return { metrics, details };
    },

    fitness(metrics) {
      return metrics.top1_acc;
    },

    logLines(stage, m) {
      if (stage === "train") return [`Train Loss: ${m.train_loss.toFixed(4)}, Train Accuracy: ${percent(m.train_acc)}`];
      if (stage === "validation") {
        const topK = (value: number) => (value * 100).toFixed(2);
        return [
          `Validation Loss: ${m.val_loss.toFixed(4)}, Validation Accuracy: ${percent(m.val_acc)}`,
          `Validation macro_F1: ${m.macro_f1.toFixed(4)}`,
          `Validation micro_F1: ${m.micro_f1.toFixed(4)}`,
          `Validation Top-k Accuracy: {'top1': ${topK(m.top1_acc)}, 'top3': ${topK(m.top3_acc)}, 'top5': ${topK(m.top5_acc)}}`,
        ];
      }
      return m.val_acc === undefined ? [] : [`New best model saved with Accuracy: ${percent(m.val_acc)}`];
    },
  };
}

registerTaskAdapter("classify", createClassifyAdapter);
