// YOLOv8 detection networks (Ultralytics yolov8.yaml) as ModelGraphs: CSP backbone with C2f blocks, SPPF,
// PAN neck (nearest upsample + concat), and the Detect head (detect/head.ts) over strides 8/16/32.
// Padding (k // 2) and BatchNorm (eps 1e-3, momentum 0.03) as Ultralytics', so its weights give its outputs.

import "../detect/head";
import type { ModelGraph } from "../graph/schema";
import { GraphBuilder } from "./builder";
import type { ZooModel } from "./index";

export interface YoloScale {
  depth: number;
  width: number;
  maxChannels: number;
}

export const YOLOV8_SCALES: Record<"n" | "s" | "m" | "l" | "x", YoloScale> = {
  n: { depth: 0.33, width: 0.25, maxChannels: 1024 },
  s: { depth: 0.33, width: 0.5, maxChannels: 1024 },
  m: { depth: 0.67, width: 0.75, maxChannels: 768 },
  l: { depth: 1.0, width: 1.0, maxChannels: 512 },
  x: { depth: 1.0, width: 1.25, maxChannels: 512 },
};

export interface Yolov8Options {
  numClasses: number;
  scale: YoloScale;
  /** Extra width multiplier on top of the scale's (tiny test networks); 1 = published. */
  width?: number;
  /** Extra depth multiplier on top of the scale's; 1 = published. */
  depth?: number;
}

/** Ultralytics make_divisible(min(c, max) * width, 8). */
function channelsFor(channels: number, scale: YoloScale, extraWidth: number): number {
  return Math.max(8, Math.ceil((Math.min(channels, scale.maxChannels) * scale.width * extraWidth) / 8) * 8);
}

function conv(g: GraphBuilder, id: string, input: string, filters: number, kernel: number, stride = 1): string {
  let x = g.add(`${id}_conv`, "Conv2d", [input], { filters, kernel_size: kernel, stride, padding: Math.floor(kernel / 2), bias: false });
  x = g.add(`${id}_bn`, "BatchNorm", [x], { eps: 1e-3, momentum: 0.97 });
  return g.add(id, "SiLU", [x]);
}

/** C2f: 1x1 conv to 2c, split in halves, n bottlenecks on the second half, concat every stage, 1x1 conv. */
function c2f(g: GraphBuilder, id: string, input: string, filters: number, repeats: number, shortcut: boolean): string {
  const hidden = filters / 2;
  const stem = conv(g, `${id}_cv1`, input, 2 * hidden, 1);
  const parts = [g.add(`${id}_split0`, "Slice", [stem], { start: 0, end: hidden }), g.add(`${id}_split1`, "Slice", [stem], { start: hidden, end: 2 * hidden })];
  for (let i = 0; i < repeats; i++) {
    const previous = parts[parts.length - 1];
    const a = conv(g, `${id}_m${i}_cv1`, previous, hidden, 3);
    const b = conv(g, `${id}_m${i}_cv2`, a, hidden, 3);
    parts.push(shortcut ? g.add(`${id}_m${i}_add`, "Add", [previous, b]) : b);
  }
  const joined = g.add(`${id}_cat`, "Concat", parts);
  return conv(g, `${id}_cv2`, joined, filters, 1);
}

/** SPPF: 1x1 conv to c/2, three chained 5x5 max pools, concat the four, 1x1 conv. */
function sppf(g: GraphBuilder, id: string, input: string, inChannels: number, filters: number): string {
  const parts = [conv(g, `${id}_cv1`, input, inChannels / 2, 1)];
  for (let i = 0; i < 3; i++) parts.push(g.add(`${id}_pool${i}`, "MaxPool", [parts[i]], { kernel_size: 5, stride: 1, padding: 2 }));
  return conv(g, `${id}_cv2`, g.add(`${id}_cat`, "Concat", parts), filters, 1);
}

export function yolov8Graph(opts: Yolov8Options): ModelGraph {
  const { scale, numClasses } = opts;
  const extraWidth = opts.width ?? 1;
  const ch = (c: number) => channelsFor(c, scale, extraWidth);
  const n = (r: number) => Math.max(Math.round(r * scale.depth * (opts.depth ?? 1)), 1);
  const g = new GraphBuilder();
  let x = g.add("input", "Input", []);
  x = conv(g, "b0", x, ch(64), 3, 2);
  x = conv(g, "b1", x, ch(128), 3, 2);
  x = c2f(g, "b2", x, ch(128), n(3), true);
  x = conv(g, "b3", x, ch(256), 3, 2);
  const p3 = c2f(g, "b4", x, ch(256), n(6), true);
  x = conv(g, "b5", p3, ch(512), 3, 2);
  const p4 = c2f(g, "b6", x, ch(512), n(6), true);
  x = conv(g, "b7", p4, ch(1024), 3, 2);
  x = c2f(g, "b8", x, ch(1024), n(3), true);
  const p5 = sppf(g, "b9", x, ch(1024), ch(1024));

  x = g.add("h10_up", "Upsample", [p5], { scale: 2 });
  x = g.add("h11_cat", "Concat", [x, p4]);
  const h12 = c2f(g, "h12", x, ch(512), n(3), false);
  x = g.add("h13_up", "Upsample", [h12], { scale: 2 });
  x = g.add("h14_cat", "Concat", [x, p3]);
  const out3 = c2f(g, "h15", x, ch(256), n(3), false);
  x = conv(g, "h16", out3, ch(256), 3, 2);
  x = g.add("h17_cat", "Concat", [x, h12]);
  const out4 = c2f(g, "h18", x, ch(512), n(3), false);
  x = conv(g, "h19", out4, ch(512), 3, 2);
  x = g.add("h20_cat", "Concat", [x, p5]);
  const out5 = c2f(g, "h21", x, ch(1024), n(3), false);
  g.add("detect", "Detect", [out3, out4, out5], { nc: numClasses });
  return g.graph();
}

export const yolov8Models: ZooModel[] = (Object.keys(YOLOV8_SCALES) as (keyof typeof YOLOV8_SCALES)[]).map((size) => ({
  name: `yolov8${size}`,
  task: "detect",
  description: `YOLOv8${size} detector (depth ${YOLOV8_SCALES[size].depth}, width ${YOLOV8_SCALES[size].width}); imgsz a multiple of 32; \`width\` scales channels further`,
  minImgsz: 32,
  graph: ({ numClasses, imgsz, width }) => {
    if (imgsz % 32 !== 0) throw new Error(`zoo model "yolov8${size}": imgsz must be a multiple of 32, got ${imgsz}`);
    return yolov8Graph({ numClasses, scale: YOLOV8_SCALES[size], width });
  },
}));
