import type * as tf from "@tensorflow/tfjs";
import { planGraph } from "../graph/analyze";
import type { LayerWeight, Shape } from "../graph/registry";
import type { ModelGraph } from "../graph/schema";
import { OnnxGraph, SUPPORTED_OPSETS, type WeightPrecision } from "./onnx-graph";

export interface OnnxExportOptions {
  /** ONNX opset, 12..17 (default 17); int8 needs 13 (per-channel DequantizeLinear). */
  opset?: number;
  /** Batch axis named "batch" instead of fixed. */
  dynamicBatch?: boolean;
  /** The fixed batch size when the batch is not dynamic (default 1). */
  batch?: number;
  /** fp16 weights (FLOAT16 initialisers cast to float at load); inputs, outputs and compute stay fp32. */
  half?: boolean;
  /** int8 weights of Conv/Gemm (symmetric, zero point 0) dequantised by DequantizeLinear; compute stays fp32. */
  int8?: boolean;
  /** int8 only: one scale per output channel (default true) or one per tensor. */
  int8PerChannel?: boolean;
  classNames: string[];
  task: "classify" | "detect";
  /** Must match the model input: one number for square inputs or [h, w]. */
  imgsz: number | [number, number];
  /** Extra metadata_props; the standard keys (names, task, imgsz, …) take precedence. */
  metadata?: Record<string, string>;
  /**
   * Appends post-processing after the graph's output (the detection decode). Gets the output
   * tensor name and its graph shape; returns the final tensor name and its shape without batch.
   */
  head?: (graph: OnnxGraph, output: { name: string; shape: Shape }) => { name: string; shape: number[] };
}

export const DEFAULT_OPSET = 17;

function checkOptions(opts: OnnxExportOptions): { opset: number; precision: WeightPrecision } {
  const opset = opts.opset ?? DEFAULT_OPSET;
  if (!SUPPORTED_OPSETS.includes(opset)) {
    throw new Error(`ONNX export: opset ${opset} is not supported; supported opsets: ${SUPPORTED_OPSETS.join(", ")}`);
  }
  if (opts.int8 && opset < 13) {
    throw new Error("ONNX export: int8 weights need opset 13 or later (per-channel DequantizeLinear)");
  }
  if (opts.half && opts.int8) {
    throw new Error("ONNX export: choose either half (fp16 weights) or int8 (int8 weights), not both");
  }
  if (opts.task !== "classify" && opts.task !== "detect") {
    throw new Error(`ONNX export: task "${String(opts.task)}" is not supported; supported tasks: classify, detect`);
  }
  return { opset, precision: opts.half ? "fp16" : opts.int8 ? "int8" : "fp32" };
}

function layerWeightsOf(model: tf.LayersModel, layerName: string): LayerWeight[] {
  let layer: tf.layers.Layer;
  try {
    layer = model.getLayer(layerName);
  } catch {
    throw new Error(`ONNX export: the model has no layer "${layerName}"; was it compiled from this graph?`);
  }
  const values = layer.getWeights();
  return layer.weights.map((variable, i) => {
    const value = values[i];
    if (value.dtype !== "float32") throw new Error(`ONNX export: weight ${variable.originalName} is ${value.dtype}, expected float32`);
    return { name: variable.originalName, values: value.dataSync() as Float32Array, shape: value.shape };
  });
}

/** NCHW dims of a graph shape ([H, W, C] → [C, H, W]). */
const nchw = (shape: Shape) => (shape.length === 3 ? [shape[2], shape[0], shape[1]] : shape);

/**
 * Exports a model compiled from `graph` to ONNX: input "images" [N, C, H, W] float32 in [0, 1],
 * output "output0" (classification: probabilities [N, nc], a Softmax is appended when the graph
 * ends in logits). Ops are emitted by each node type's `toOnnx` in topological order.
 */
export async function exportOnnx(model: tf.LayersModel, graph: ModelGraph, opts: OnnxExportOptions): Promise<Uint8Array> {
  const { opset, precision } = checkOptions(opts);
  const [, height, width, channels] = model.inputs[0].shape as number[];
  const [imgH, imgW] = typeof opts.imgsz === "number" ? [opts.imgsz, opts.imgsz] : opts.imgsz;
  if (imgH !== height || imgW !== width) {
    throw new Error(`ONNX export: imgsz ${imgH}x${imgW} does not match the model input ${height}x${width}`);
  }
  const plan = planGraph(graph, [height, width, channels]);
  if (plan.outputIds.length !== 1) {
    throw new Error(`ONNX export supports one output; nodes without outgoing edges: ${plan.outputIds.join(", ")}`);
  }

  const onnx = new OnnxGraph({ precision, int8PerChannel: opts.int8PerChannel ?? true });
  const batch = opts.dynamicBatch ? "batch" : (opts.batch ?? 1);
  onnx.addInput("images", [batch, channels, height, width]);
  const tensorOf = new Map<string, string>();
  for (const { node, def, data, inputIds, inputShapes, outputShape } of plan.nodes) {
    const inputs = def.type === "Input" ? ["images"] : inputIds.map((id) => tensorOf.get(id)!);
    const output = def.toOnnx({
      graph: onnx,
      nodeId: node.id,
      data,
      inputs,
      inputShapes,
      outputShape,
      opset,
      layerWeights: (layerName = node.id) => layerWeightsOf(model, layerName),
    });
    tensorOf.set(node.id, output);
  }

  const last = plan.nodes[plan.nodes.length - 1];
  const lastTensor = tensorOf.get(last.node.id)!;
  if (opts.task === "classify") {
    const [numClasses] = last.outputShape;
    if (last.outputShape.length !== 1 || numClasses !== opts.classNames.length) {
      throw new Error(
        `ONNX export: a classifier must end in a vector of ${opts.classNames.length} classes (classNames), the graph ends in [${last.outputShape.join(", ")}]`,
      );
    }
    const alreadyProbabilities = last.def.type === "Softmax";
    onnx.addNode(alreadyProbabilities ? "Identity" : "Softmax", [lastTensor], alreadyProbabilities ? {} : { axis: 1 }, {
      name: "output0_node",
      outputs: ["output0"],
    });
    onnx.addOutput("output0", [batch, numClasses]);
  } else {
    const final = opts.head ? opts.head(onnx, { name: lastTensor, shape: last.outputShape }) : { name: lastTensor, shape: nchw(last.outputShape) };
    onnx.addNode("Identity", [final.name], {}, { name: "output0_node", outputs: ["output0"] });
    onnx.addOutput("output0", [batch, ...final.shape]);
  }

  const metadata: Record<string, string> = {
    ...opts.metadata,
    names: JSON.stringify(Object.fromEntries(opts.classNames.map((name, i) => [String(i), name]))),
    task: opts.task,
    imgsz: JSON.stringify([height, width]),
    batch: opts.dynamicBatch ? "dynamic" : String(opts.batch ?? 1),
    precision,
  };
  return onnx.toBytes({ opset, metadata });
}
