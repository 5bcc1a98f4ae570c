// ONNX post-processing for YOLOv8 graphs: turns the Detect node's raw [N, anchors, 4*reg_max + nc] output into
// Ultralytics' export layout [N, 4 + nc, anchors] (xywh in input pixels, sigmoid class scores), the same
// computation as decodeRawOutput. Plugged into exportOnnx through its `head` option.

import type * as tf from "@tensorflow/tfjs";
import { exportOnnx, type OnnxExportOptions } from "../export/onnx";
import type { OnnxGraph } from "../export/onnx-graph";
import type { Shape } from "../graph/registry";
import type { ModelGraph } from "../graph/schema";
import { makeAnchors, REG_MAX, DEFAULT_STRIDES } from "./dfl";
import { detectHeadSchema } from "./head";

export interface DecodeHeadOptions {
  imgsz: [number, number];
  numClasses: number;
  regMax?: number;
  strides?: readonly number[];
}

/** Returns an exportOnnx `head` that appends the DFL decode, anchors × strides and sigmoid scores. */
export function yoloDecodeHead(opts: DecodeHeadOptions) {
  const regMax = opts.regMax ?? REG_MAX;
  const nc = opts.numClasses;
  const grid = makeAnchors(opts.imgsz[0], opts.imgsz[1], opts.strides ?? DEFAULT_STRIDES);
  const anchors = grid.count;
  return (graph: OnnxGraph, output: { name: string; shape: Shape }): { name: string; shape: number[] } => {
    const [rows, channels] = output.shape;
    if (rows !== anchors || channels !== 4 * regMax + nc) {
      throw new Error(`ONNX detection decode: the graph output [${output.shape.join(", ")}] is not [${anchors}, ${4 * regMax + nc}] for imgsz ${opts.imgsz.join("x")} and ${nc} classes`);
    }
    const int64 = (name: string, values: number[]) => graph.constInt64(`decode_${name}`, values);
    const slice = (input: string, start: number, end: number, axis: number, name: string) =>
      graph.op("Slice", [input, int64(`${name}_starts`, [start]), int64(`${name}_ends`, [end]), int64(`${name}_axes`, [axis])], {}, `decode_${name}`);

    const raw = graph.op("Transpose", [output.name], { perm: [0, 2, 1] }, "decode_channels_first"); // [N, C, A]
    const dist = graph.op("Reshape", [slice(raw, 0, 4 * regMax, 1, "dist"), int64("dist_shape", [-1, 4, regMax, anchors])], {}, "decode_dist_bins");
    // Bins last: Softmax over the last axis and MatMul mean the same in every opset from 12 on.
    const binsLast = graph.op("Transpose", [dist], { perm: [0, 1, 3, 2] }, "decode_bins_last"); // [N, 4, A, regMax]
    const probs = graph.op("Softmax", [binsLast], { axis: 3 }, "decode_softmax");
    const bins = graph.constFloat("decode_bin_index", Array.from({ length: regMax }, (_, i) => i), [regMax, 1]);
    const expected = graph.op("MatMul", [probs, bins], {}, "decode_weighted"); // [N, 4, A, 1]
    const distances = graph.op("Reshape", [expected, int64("distances_shape", [-1, 4, anchors])], {}, "decode_distances"); // [N, 4, A]

    const points = new Float32Array(2 * anchors);
    for (let a = 0; a < anchors; a++) {
      points[a] = grid.points[2 * a];
      points[anchors + a] = grid.points[2 * a + 1];
    }
    const anchorPoints = graph.addInitializer("decode_anchor_points", points, [1, 2, anchors]);
    const strides = graph.addInitializer("decode_strides", Float32Array.from(grid.strides), [1, 1, anchors]);
    const lt = slice(distances, 0, 2, 1, "lt");
    const rb = slice(distances, 2, 4, 1, "rb");
    const topLeft = graph.op("Sub", [anchorPoints, lt], {}, "decode_x1y1");
    const bottomRight = graph.op("Add", [anchorPoints, rb], {}, "decode_x2y2");
    const half = graph.constFloat("decode_half", [0.5], [1]);
    const centre = graph.op("Mul", [graph.op("Add", [topLeft, bottomRight], {}, "decode_corner_sum"), half], {}, "decode_centre");
    const size = graph.op("Sub", [bottomRight, topLeft], {}, "decode_size");
    const boxes = graph.op("Mul", [graph.op("Concat", [centre, size], { axis: 1 }, "decode_xywh_grid"), strides], {}, "decode_xywh");
    const scores = graph.op("Sigmoid", [slice(raw, 4 * regMax, 4 * regMax + nc, 1, "cls")], {}, "decode_scores");
    return { name: graph.op("Concat", [boxes, scores], { axis: 1 }, "decode_output"), shape: [4 + nc, anchors] };
  };
}

/** Exports a YOLOv8-style detection model with the decode appended: output0 = [N, 4 + nc, anchors]. */
export async function exportDetectionOnnx(
  model: tf.LayersModel,
  graph: ModelGraph,
  opts: Omit<OnnxExportOptions, "task" | "head">,
): Promise<Uint8Array> {
  const imgsz: [number, number] = typeof opts.imgsz === "number" ? [opts.imgsz, opts.imgsz] : opts.imgsz;
  const detect = graph.nodes.find((n) => n.type === "Detect");
  if (!detect) throw new Error("ONNX detection export: the graph has no Detect node");
  const data = detectHeadSchema.parse(detect.data ?? {});
  const head = yoloDecodeHead({ imgsz, numClasses: opts.classNames.length, regMax: data.reg_max, strides: data.strides });
  return exportOnnx(model, graph, { ...opts, task: "detect", head });
}
