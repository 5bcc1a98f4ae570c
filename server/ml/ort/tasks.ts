// What the ONNX trainer does per task: the loss its graphs end in, the targets it feeds each pass,
// and the metrics it reads back. Classification is one graph per pass; detection runs the forward,
// assigns targets in JavaScript on the head's raw output (detect/targets.ts), then the loss and backward.
import type { ShareInput } from "../backend/parallel";
import { makeAnchors, REG_MAX } from "../detect/dfl";
import { DETECT_REPLICA_MODULE, decodeBoxes, type DetectLossOptions } from "../detect/replica";
import { detectionTargets } from "../detect/targets";
import type { DataParallelSupport } from "../train/adapter";
import { CLASSIFY_REPLICA_MODULE, type ClassifyLossOptions } from "../train/classify-loss";
import { ort } from "./session";
import { accuracyOf, classifyTargets } from "./targets";
import type { ClassifyLossSpec, DetectLossSpec, TrainGraphIo } from "./train-graph";

export interface OrtTask {
  readonly name: "classify" | "detect";
  readonly loss: ClassifyLossSpec | DetectLossSpec;
  /** Forward and backward as two graphs, with `targets` run between them on the forward's output. */
  readonly split: boolean;
  /** The loss parts each pass reports besides `loss`, in the names the TF.js engine's adapter uses. */
  readonly parts: string[];
  /** Feeds of the targets for one pass of `images` images (split: from the outputs of its forward). */
  targets(io: TrainGraphIo, input: ShareInput, images: number, forward: Record<string, ort.Tensor> | null): Record<string, ort.Tensor>;
  /** Metrics of the pass besides the loss and its parts (classify: accuracy). */
  metrics(modelOutput: Float32Array, input: ShareInput): Record<string, number>;
  /** Targets of the right shapes for timing a graph. */
  placeholderTargets(io: TrainGraphIo, images: number): Record<string, ort.Tensor>;
}

const filled = (dims: number[], value: number) => new ort.Tensor("float32", new Float32Array(dims.reduce((a, b) => a * b, 1)).fill(value), dims);

function classifyTask(options: ClassifyLossOptions): OrtTask {
  const k = options.numClasses;
  const labelsOf = (input: ShareInput) => {
    if (!(input.targets instanceof Int32Array)) throw new Error("ONNX trainer: classification targets must be Int32Array class ids");
    return input.targets;
  };
  return {
    name: "classify",
    loss: { kind: "classify", numClasses: k, probabilities: options.probabilities },
    split: false,
    parts: [],
    targets: (io, input, images) => ({ [io.targetInput]: new ort.Tensor("float32", classifyTargets(labelsOf(input), k, options.labelSmoothing), [images, k]) }),
    metrics: (logits, input) => ({ acc: accuracyOf(logits, labelsOf(input), k) }),
    placeholderTargets: (io, images) => ({ [io.targetInput]: filled([images, k], 1 / k) }),
  };
}

function detectTask(options: DetectLossOptions): OrtTask {
  const { numClasses: nc, imgsz } = options;
  const grid = makeAnchors(imgsz, imgsz);
  const anchors = grid.count;
  const feeds = (io: TrainGraphIo, images: number, t: { targetScores: Float32Array; weights: Float32Array; targetBoxes: Float32Array; binWeights: Float32Array; normaliser: number }) => {
    const d = io.detectInputs!;
    return {
      [d.scores]: new ort.Tensor("float32", t.targetScores, [images, anchors, nc]),
      [d.weights]: new ort.Tensor("float32", t.weights, [images, anchors]),
      [d.boxes]: new ort.Tensor("float32", t.targetBoxes, [images, anchors, 4]),
      [d.bins]: new ort.Tensor("float32", t.binWeights, [images, anchors, 4, REG_MAX]),
      [d.normaliser]: new ort.Tensor("float32", Float32Array.of(t.normaliser), []),
    };
  };
  return {
    name: "detect",
    loss: { kind: "detect", numClasses: nc, imgsz },
    split: true,
    parts: ["box_loss", "cls_loss", "dfl_loss"],
    targets(io, input, images, forward) {
      if (!forward || !io.assignerOutputs) throw new Error("ONNX trainer: detection targets need the forward's scores and boxes");
      const scores = forward[io.assignerOutputs.scores].data as Float32Array;
      const boxesPx = forward[io.assignerOutputs.boxes].data as Float32Array;
      return feeds(io, images, detectionTargets(scores, boxesPx, decodeBoxes(input.targets, images), { numClasses: nc, imgsz, grid }));
    },
    metrics: () => ({}),
    placeholderTargets(io, images) {
      const boxes = new Float32Array(images * anchors * 4);
      for (let a = 0; a < images * anchors; a++) boxes.set([0, 0, 1, 1], 4 * a);
      return feeds(io, images, { targetScores: new Float32Array(images * anchors * nc), weights: new Float32Array(images * anchors), targetBoxes: boxes, binWeights: new Float32Array(images * anchors * 4 * REG_MAX), normaliser: 1 });
    },
  };
}

/** The task the adapter trains, as the ONNX trainer runs it, or why it cannot. */
export function ortTaskOf(adapter: { readonly dataParallel?: DataParallelSupport<{ size: number }> }): OrtTask | string {
  const spec = adapter.dataParallel?.replicaTask();
  if (!spec) return "the task cannot split batches, which the ONNX trainer needs";
  if (spec.module === CLASSIFY_REPLICA_MODULE) return classifyTask(spec.options as ClassifyLossOptions);
  if (spec.module === DETECT_REPLICA_MODULE) return detectTask(spec.options as DetectLossOptions);
  return `the task of ${spec.module} has no ONNX training graph`;
}
