// What the ONNX trainer does per task: the loss its graph ends in, the targets it feeds each pass,
// and the metrics it reads back. One graph per pass: detection feeds the ground truth boxes, and the
// graph assigns them to anchors itself (assign-graph.ts).
import type { ShareInput } from "../backend/parallel";
import type { Box } from "../augment/geometry";
import { DETECT_REPLICA_MODULE, decodeBoxes, type DetectLossOptions } from "../detect/replica";
import type { DataParallelSupport } from "../train/adapter";
import type { GroundTruthInputs } from "./assign-graph";
import { CLASSIFY_REPLICA_MODULE, type ClassifyLossOptions } from "../train/classify-loss";
import { ort } from "./session";
import { accuracyOf, classifyTargets } from "./targets";
import type { ClassifyLossSpec, DetectLossSpec, TrainGraphIo } from "./train-graph";

export interface OrtTask {
  readonly name: "classify" | "detect";
  readonly loss: ClassifyLossSpec | DetectLossSpec;
  /** The loss parts each pass reports besides `loss`, in the names the TF.js engine's adapter uses. */
  readonly parts: string[];
  /** Feeds of the targets for one pass of `images` images. */
  targets(io: TrainGraphIo, input: ShareInput, images: number): Record<string, ort.Tensor>;
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
    parts: [],
    targets: (io, input, images) => ({ [io.targetInput]: new ort.Tensor("float32", classifyTargets(labelsOf(input), k, options.labelSmoothing), [images, k]) }),
    metrics: (logits, input) => ({ acc: accuracyOf(logits, labelsOf(input), k) }),
    placeholderTargets: (io, images) => ({ [io.targetInput]: filled([images, k], 1 / k) }),
  };
}

/**
 * The ground truth feeds of a detection graph: xyxy pixels [n, gts, 4] and one-hot classes [n, gts, nc],
 * padded to the most boxes an image has, rounded up to a power of two (few shapes for ORT to plan).
 */
export function groundTruthFeeds(inputs: GroundTruthInputs, boxes: Box[][], opts: { numClasses: number; imgsz: number }): Record<string, ort.Tensor> {
  const { numClasses: nc, imgsz } = opts;
  const images = boxes.length;
  const gts = 2 ** Math.ceil(Math.log2(Math.max(1, ...boxes.map((image) => image.length))));
  const xyxy = new Float32Array(images * gts * 4);
  const classes = new Float32Array(images * gts * nc);
  boxes.forEach((image, i) =>
    image.forEach((b, k) => {
      if (!(b.cls >= 0 && b.cls < nc)) throw new Error(`box class ${b.cls} is outside 0..${nc - 1}`);
      const row = i * gts + k;
      // As detect/targets.ts: normalised centre xywh to xyxy pixels, stored as float32.
      xyxy.set([(b.x - b.w / 2) * imgsz, (b.y - b.h / 2) * imgsz, (b.x + b.w / 2) * imgsz, (b.y + b.h / 2) * imgsz], 4 * row);
      classes[row * nc + b.cls] = 1;
    }),
  );
  return { [inputs.boxes]: new ort.Tensor("float32", xyxy, [images, gts, 4]), [inputs.classes]: new ort.Tensor("float32", classes, [images, gts, nc]) };
}

function detectTask(options: DetectLossOptions): OrtTask {
  const { numClasses: nc, imgsz } = options;
  return {
    name: "detect",
    loss: { kind: "detect", numClasses: nc, imgsz },
    parts: ["box_loss", "cls_loss", "dfl_loss"],
    targets: (io, input, images) => groundTruthFeeds(io.detectInputs!, decodeBoxes(input.targets, images), options),
    metrics: () => ({}),
    placeholderTargets: (io, images) => groundTruthFeeds(io.detectInputs!, Array.from({ length: images }, () => []), options),
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
