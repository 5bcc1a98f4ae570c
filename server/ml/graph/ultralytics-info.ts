// The summary line Ultralytics' model.info() prints — "YOLOv8n summary: 129 layers, 3,157,200 parameters,
// 3,157,184 gradients, 8.9 GFLOPs" — computed from our graph with PyTorch's and thop's conventions.
import { planGraph, type PlannedNode } from "./index";
import type { ModelGraph } from "./schema";

export interface UltralyticsInfo {
  /** Leaf modules of the PyTorch model (the Conv blocks' shared SiLU counted once, as Ultralytics' is one object). */
  layers: number;
  /** Every PyTorch parameter: ours without BatchNorm running statistics, plus the fixed DFL weights of each Detect. */
  parameters: number;
  /** Parameters that get gradients (the DFL conv is frozen). */
  gradients: number;
  /** 2 × multiply-adds as thop counts them, for one imgsz × imgsz image. */
  gflops: number;
}

const prod = (values: number[]) => values.reduce((a, b) => a * b, 1);

interface DetectData {
  nc: number;
  reg_max: number;
}

/** Multiply-adds of one layer by thop's rules; layers thop has no rule for (SiLU, MaxPool, Concat…) count 0. */
function thopMacs({ def, data, inputShapes, outputShape }: PlannedNode): number {
  const d = data as Record<string, unknown>;
  const out = prod(outputShape);
  switch (def.type) {
    case "Conv2d": {
      const [kh, kw] = d.kernel_size as [number, number];
      return out * (inputShapes[0][2] / (d.groups as number)) * kh * kw;
    }
    case "DepthwiseConv2d": {
      const [kh, kw] = d.kernel_size as [number, number];
      return out * kh * kw;
    }
    case "BatchNorm":
      // thop: 2 per element, doubled for the affine transform.
      return 4 * out;
    case "Dense":
      return inputShapes[0][0] * out;
    case "AvgPool":
      return out;
    case "GlobalAvgPool": {
      const [h, w, c] = inputShapes[0];
      return (h * w + 1) * c;
    }
    case "Upsample":
      // thop counts one op per output element for nearest upsampling.
      return out;
    case "Softmax":
      return (3 * outputShape[outputShape.length - 1] - 1) * (out / outputShape[outputShape.length - 1]);
    case "Detect":
      return detectMacs(inputShapes, data as DetectData);
    default:
      return 0;
  }
}

/** Detect's per-level branches (Conv-BN ×2 + a 1×1 conv each for box and class) and the DFL conv over all anchors. */
function detectMacs(inputs: number[][], data: DetectData): number {
  const first = inputs[0][2];
  const box = Math.max(16, Math.floor(first / 4), data.reg_max * 4);
  const cls = Math.max(first, Math.min(data.nc, 100));
  let macs = 0;
  for (const [h, w, c] of inputs) {
    const pixels = h * w;
    for (const [hidden, outputs] of [
      [box, 4 * data.reg_max],
      [cls, data.nc],
    ]) {
      macs += pixels * hidden * (c * 9) + 4 * pixels * hidden;
      macs += pixels * hidden * (hidden * 9) + 4 * pixels * hidden;
      macs += pixels * outputs * hidden;
    }
  }
  const anchors = inputs.reduce((n, [h, w]) => n + h * w, 0);
  return macs + (data.reg_max > 1 ? 4 * anchors * data.reg_max : 0);
}

/** Leaf modules of the PyTorch network this layer is part of. */
function leafModules({ def, data, node, parentBlock }: PlannedNode): number {
  switch (def.type) {
    case "Concat":
      // Inside C2f and SPPF the concatenation is torch.cat, not a module.
      return parentBlock ? 0 : 1;
    case "MaxPool":
      // SPPF applies one MaxPool2d module three times.
      return parentBlock === "SPPF" && !node.id.endsWith("_pool0") ? 0 : 1;
    case "Input":
    case "Add":
    case "Slice":
    case "Flatten":
      return 0;
    case "Detect": {
      const levels = (data as { strides: number[] }).strides.length;
      // per level and branch: two Conv (conv + bn) and the prediction conv; then the DFL conv.
      return levels * 2 * 5 + ((data as DetectData).reg_max > 1 ? 1 : 0);
    }
    case "SiLU":
      // A Conv block's SiLU is Ultralytics' Conv.default_act, one module shared by all of them.
      return parentBlock === "ConvBlock" ? 0 : 1;
    default:
      return 1;
  }
}

export function ultralyticsInfo(graph: ModelGraph, imgsz = 640): UltralyticsInfo {
  const plan = planGraph(graph, [imgsz, imgsz, 3]);
  let macs = 0;
  let layers = 0;
  let frozen = 0;
  let sharedSilu = false;
  for (const planned of plan.nodes) {
    macs += thopMacs(planned);
    if (planned.def.type === "Detect") frozen += (planned.data as DetectData).reg_max > 1 ? (planned.data as DetectData).reg_max : 0;
    if (planned.def.type === "Detect" || (planned.def.type === "SiLU" && leafModules(planned) === 0)) sharedSilu = true;
    layers += leafModules(planned);
  }
  const gradients = plan.summary.totalTrainableParams;
  return { layers: layers + (sharedSilu ? 1 : 0), parameters: gradients + frozen, gradients, gflops: (2 * macs) / 1e9 };
}

/** "YOLOv8n summary: 129 layers, 3,157,200 parameters, 3,157,184 gradients, 8.9 GFLOPs" (model name from the file stem). */
export function ultralyticsSummaryLine(modelName: string, info: UltralyticsInfo): string {
  const n = (v: number) => v.toLocaleString("en-US");
  return `${modelName} summary: ${n(info.layers)} layers, ${n(info.parameters)} parameters, ${n(info.gradients)} gradients, ${info.gflops.toFixed(1)} GFLOPs`;
}
