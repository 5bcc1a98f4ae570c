// Ultralytics model YAML (yolov8.yaml and friends) ⇄ our layer graph. Rows `[from, repeats, module, args]`
// over backbone + head are read as Ultralytics' parse_model reads them: the scale (depth, width,
// max_channels) comes from the option, the file name (yolov8n.yaml → n) or the first entry of
// `scales`; widths are make_divisible(min(c, max_channels) · width, 8) unless equal to nc; repeats
// max(round(n · depth), 1) with Python's rounding. Rows become blocks (Conv → ConvBlock, C2f, SPPF,
// Bottleneck) and layers (nn.Upsample → Upsample, Concat, Detect), ids b<i> / h<i> / detect.
import yaml from "js-yaml";
// From the index, which registers every layer type (Detect included).
import { planGraph } from "./index";
import { GraphError, type GraphEdge, type GraphNode, type ModelGraph } from "./schema";

export class UltralyticsYamlError extends Error {
  constructor(
    message: string,
    /** The row index as Ultralytics numbers it (backbone then head), when one row is at fault. */
    public row?: number,
  ) {
    super(message);
    this.name = "UltralyticsYamlError";
  }
}

export interface YamlImportOptions {
  /** The scale key (n, s, m, l, x…); else taken from `fileName`, else the file's `scale`, else the first of `scales`. */
  scale?: string;
  /** Overrides the file's nc, as Ultralytics' `nc=` does. */
  nc?: number;
  /** The file's name: `yolov8s.yaml` picks scale s. */
  fileName?: string;
}

export interface YamlImport {
  graph: ModelGraph;
  nc: number;
  scale: string | null;
  task: "detect" | "classify";
  warnings: string[];
}

export const SUPPORTED_MODULES = ["Conv", "C2f", "Bottleneck", "SPPF", "nn.Upsample", "Concat", "Detect"] as const;

/** Ultralytics' guess_model_scale: the letter after yolov<digits> in the file name. */
export function scaleFromFileName(fileName: string): string | undefined {
  const stem = fileName.split(/[\\/]/).pop()!.replace(/\.ya?ml$/i, "");
  return /yolov\d+([nslmx])/.exec(stem)?.[1];
}

/** Python's round(): halves go to the even neighbour. */
function pythonRound(value: number): number {
  const floor = Math.floor(value);
  const diff = value - floor;
  if (Math.abs(diff - 0.5) < 1e-12) return floor % 2 === 0 ? floor : floor + 1;
  return Math.round(value);
}

/** A value as the message shows it: short, and safe for YAML aliases that make a list contain itself. */
function show(value: unknown): string {
  try {
    const text = JSON.stringify(value) ?? String(value);
    return text.length > 80 ? `${text.slice(0, 77)}...` : text;
  } catch {
    return String(value);
  }
}

const makeDivisible = (value: number, divisor = 8) => Math.ceil(value / divisor) * divisor;

interface Scale {
  depth: number;
  width: number;
  maxChannels: number;
}

function readScale(doc: Record<string, unknown>, opts: YamlImportOptions, warnings: string[]): { key: string | null; scale: Scale } {
  const scales = doc.scales;
  if (scales === undefined || scales === null) {
    const depth = Number(doc.depth_multiple ?? 1);
    const width = Number(doc.width_multiple ?? 1);
    if (!(depth > 0) || !(width > 0)) throw new UltralyticsYamlError("depth_multiple and width_multiple must be positive numbers");
    return { key: null, scale: { depth, width, maxChannels: Infinity } };
  }
  if (typeof scales !== "object" || Array.isArray(scales)) throw new UltralyticsYamlError("scales must map a scale name to [depth, width, max_channels]");
  const table = scales as Record<string, unknown>;
  let key = opts.scale ?? (opts.fileName ? scaleFromFileName(opts.fileName) : undefined) ?? (typeof doc.scale === "string" && doc.scale ? doc.scale : undefined);
  if (!key) {
    key = Object.keys(table)[0];
    warnings.push(`no model scale passed; assuming scale '${key}' as Ultralytics does`);
  }
  const entry = table[key];
  if (!Array.isArray(entry) || entry.length !== 3 || entry.some((v) => typeof v !== "number" || !(v > 0))) {
    throw new UltralyticsYamlError(`scale '${key}' is not in scales (${Object.keys(table).join(", ")}) as [depth, width, max_channels]`);
  }
  return { key, scale: { depth: entry[0], width: entry[1], maxChannels: entry[2] } };
}

interface RowContext {
  index: number;
  where: string;
  inputs: string[];
  inputChannels: number[];
  inputStrides: number[];
  args: unknown[];
  repeats: number;
}

interface RowResult {
  type: string;
  data: Record<string, unknown>;
  channels: number;
  stride: number;
}

const intArg = (ctx: RowContext, position: number, name: string, fallback?: number): number => {
  const value = ctx.args[position] ?? fallback;
  if (typeof value !== "number" || !Number.isInteger(value) || value < 0) {
    throw new UltralyticsYamlError(`${ctx.where}: argument ${position + 1} (${name}) must be a non-negative integer, got ${show(value ?? null)}`, ctx.index);
  }
  return value;
};
const boolArg = (ctx: RowContext, position: number, name: string, fallback: boolean): boolean => {
  const value = ctx.args[position] ?? fallback;
  if (typeof value !== "boolean") throw new UltralyticsYamlError(`${ctx.where}: argument ${position + 1} (${name}) must be True or False, got ${show(value)}`, ctx.index);
  return value;
};

function single(ctx: RowContext, module: string): void {
  if (ctx.inputs.length !== 1) throw new UltralyticsYamlError(`${ctx.where}: ${module} takes one input, 'from' lists ${ctx.inputs.length}`, ctx.index);
}

function noRepeats(ctx: RowContext, module: string): void {
  if (ctx.repeats !== 1) throw new UltralyticsYamlError(`${ctx.where}: ${module} with repeats ${ctx.repeats} is not supported (only C2f repeats its bottlenecks)`, ctx.index);
}

function rowModule(module: string, ctx: RowContext, scale: Scale, nc: number): RowResult {
  const width = (c: number) => (c === nc ? c : makeDivisible(Math.min(c, scale.maxChannels) * scale.width));
  const [stride] = ctx.inputStrides;
  switch (module) {
    case "Conv": {
      single(ctx, module);
      noRepeats(ctx, module);
      const filters = width(intArg(ctx, 0, "c2"));
      const data: Record<string, unknown> = { filters, kernel_size: intArg(ctx, 1, "k", 1), stride: intArg(ctx, 2, "s", 1) };
      if (ctx.args[3] !== undefined && ctx.args[3] !== null) data.padding = intArg(ctx, 3, "p");
      if (ctx.args[4] !== undefined) data.groups = intArg(ctx, 4, "g");
      if (ctx.args[5] !== undefined) data.dilation = intArg(ctx, 5, "d");
      if (ctx.args[6] !== undefined && !boolArg(ctx, 6, "act", true)) data.activation = "none";
      return { type: "ConvBlock", data, channels: filters, stride: stride * (data.stride as number) };
    }
    case "C2f": {
      single(ctx, module);
      const filters = width(intArg(ctx, 0, "c2"));
      const data: Record<string, unknown> = { filters, repeats: ctx.repeats, shortcut: boolArg(ctx, 1, "shortcut", false) };
      if (ctx.args[2] !== undefined) data.groups = intArg(ctx, 2, "g");
      if (ctx.args[3] !== undefined) data.expansion = ctx.args[3];
      return { type: "C2f", data, channels: filters, stride };
    }
    case "Bottleneck": {
      single(ctx, module);
      noRepeats(ctx, module);
      const filters = width(intArg(ctx, 0, "c2"));
      const data: Record<string, unknown> = { filters, shortcut: boolArg(ctx, 1, "shortcut", true) };
      if (ctx.args[2] !== undefined) data.groups = intArg(ctx, 2, "g");
      if (ctx.args[3] !== undefined) data.kernel_size = ctx.args[3];
      if (ctx.args[4] !== undefined) data.expansion = ctx.args[4];
      return { type: "Bottleneck", data, channels: filters, stride };
    }
    case "SPPF": {
      single(ctx, module);
      noRepeats(ctx, module);
      const filters = width(intArg(ctx, 0, "c2"));
      return { type: "SPPF", data: { filters, kernel_size: intArg(ctx, 1, "k", 5) }, channels: filters, stride };
    }
    case "nn.Upsample": {
      single(ctx, module);
      noRepeats(ctx, module);
      const [size, factor, mode] = ctx.args;
      if (size !== null && size !== undefined) throw new UltralyticsYamlError(`${ctx.where}: nn.Upsample with a fixed size is not supported; use [None, scale_factor, "nearest"]`, ctx.index);
      if ((mode ?? "nearest") !== "nearest") throw new UltralyticsYamlError(`${ctx.where}: nn.Upsample mode "${String(mode)}" is not supported; only "nearest"`, ctx.index);
      const scaleFactor = intArg(ctx, 1, "scale_factor", 2);
      if (scaleFactor < 1 || factor === 0) throw new UltralyticsYamlError(`${ctx.where}: scale_factor must be a positive integer`, ctx.index);
      return { type: "Upsample", data: { scale: scaleFactor }, channels: ctx.inputChannels[0], stride: stride / scaleFactor };
    }
    case "Concat": {
      noRepeats(ctx, module);
      if ((ctx.args[0] ?? 1) !== 1) throw new UltralyticsYamlError(`${ctx.where}: Concat along dimension ${String(ctx.args[0])} is not supported; only 1 (channels)`, ctx.index);
      const strides = [...new Set(ctx.inputStrides)];
      if (strides.length > 1) {
        throw new UltralyticsYamlError(`${ctx.where}: Concat inputs have different spatial sizes (strides ${ctx.inputStrides.join(", ")}); they must match`, ctx.index);
      }
      return { type: "Concat", data: {}, channels: ctx.inputChannels.reduce((a, b) => a + b, 0), stride };
    }
    case "Detect": {
      noRepeats(ctx, module);
      const classes = ctx.args[0] ?? nc;
      if (typeof classes !== "number" || !Number.isInteger(classes) || classes < 1) throw new UltralyticsYamlError(`${ctx.where}: Detect needs nc, got ${show(classes)}`, ctx.index);
      const strides = ctx.inputStrides;
      if (strides.some((s, i) => !Number.isInteger(s) || (i > 0 && s <= strides[i - 1]))) {
        throw new UltralyticsYamlError(`${ctx.where}: Detect inputs must be feature maps in increasing stride order, got strides ${strides.join(", ")}`, ctx.index);
      }
      const isDefault = strides.join() === "8,16,32";
      return { type: "Detect", data: isDefault ? { nc: classes } : { nc: classes, strides }, channels: 0, stride };
    }
    default:
      throw new UltralyticsYamlError(`${ctx.where}: unknown module "${module}"; supported: ${SUPPORTED_MODULES.join(", ")}`, ctx.index);
  }
}

function resolveArgs(args: unknown[], nc: number): unknown[] {
  return args.map((a) => (a === "nc" ? nc : a === "None" ? null : a === "True" ? true : a === "False" ? false : a));
}

/** Parses model YAML text into a graph (Input node + one node per row); errors name the row. */
export function parseUltralyticsYaml(text: string, opts: YamlImportOptions = {}): YamlImport {
  let doc: unknown;
  try {
    doc = yaml.load(text);
  } catch (error) {
    throw new UltralyticsYamlError(`not valid YAML: ${(error as Error).message.split("\n")[0]}`);
  }
  if (!doc || typeof doc !== "object" || Array.isArray(doc)) throw new UltralyticsYamlError("the YAML must be a mapping with backbone and head");
  const d = doc as Record<string, unknown>;
  if (!Array.isArray(d.backbone) || d.backbone.length === 0) throw new UltralyticsYamlError("backbone must be a list of [from, repeats, module, args] rows");
  if (d.head !== undefined && !Array.isArray(d.head)) throw new UltralyticsYamlError("head must be a list of [from, repeats, module, args] rows");
  if (d.activation !== undefined && d.activation !== "nn.SiLU()") {
    throw new UltralyticsYamlError(`activation ${String(d.activation)} is not supported; the Detect head and Conv blocks use nn.SiLU()`);
  }
  const nc = opts.nc ?? d.nc;
  if (typeof nc !== "number" || !Number.isInteger(nc) || nc < 1) throw new UltralyticsYamlError(`nc must be a positive integer, got ${show(nc ?? null)}`);
  const warnings: string[] = [];
  const { key, scale } = readScale(d, opts, warnings);
  const rows = [...(d.backbone as unknown[]).map((r, i) => ({ r, where: `row ${i} (backbone[${i}])`, prefix: "b" })), ...((d.head as unknown[] | undefined) ?? []).map((r, i) => ({ r, where: `row ${(d.backbone as unknown[]).length + i} (head[${i}])`, prefix: "h" }))];

  const nodes: GraphNode[] = [{ id: "input", type: "Input", data: {} }];
  const edges: GraphEdge[] = [];
  const ids: string[] = [];
  const channels: number[] = [];
  const strides: number[] = [];
  rows.forEach(({ r, where, prefix }, index) => {
    if (!Array.isArray(r) || r.length !== 4) throw new UltralyticsYamlError(`${where}: expected [from, repeats, module, args], got ${show(r)}`, index);
    const [from, repeats, module, args] = r as [unknown, unknown, unknown, unknown];
    if (typeof module !== "string") throw new UltralyticsYamlError(`${where}: module must be a name, got ${show(module)}`, index);
    if (typeof repeats !== "number" || !Number.isInteger(repeats) || repeats < 1 || repeats > 64) throw new UltralyticsYamlError(`${where}: repeats must be an integer from 1 to 64, got ${show(repeats)}`, index);
    if (!Array.isArray(args)) throw new UltralyticsYamlError(`${where}: args must be a list, got ${show(args)}`, index);
    const sources = (Array.isArray(from) ? from : [from]).map((f) => {
      if (typeof f !== "number" || !Number.isInteger(f)) throw new UltralyticsYamlError(`${where} ${module}: 'from' must be an integer or a list of integers, got ${show(from)}`, index);
      if (f === -1) return index - 1;
      const absolute = f < 0 ? index + f : f;
      if (absolute < 0 || absolute >= index) {
        throw new UltralyticsYamlError(`${where} ${module}: 'from' index ${f} does not name an earlier row (rows 0–${index - 1} come before it)`, index);
      }
      return absolute;
    });
    const inputs = sources.map((s) => (s < 0 ? "input" : ids[s]));
    const ctx: RowContext = {
      index,
      where: `${where} ${module}`,
      inputs,
      inputChannels: sources.map((s) => (s < 0 ? 3 : channels[s])),
      inputStrides: sources.map((s) => (s < 0 ? 1 : strides[s])),
      args: resolveArgs(args, nc),
      repeats: repeats > 1 ? Math.max(pythonRound(repeats * scale.depth), 1) : repeats,
    };
    const result = rowModule(module, ctx, scale, nc);
    const id = result.type === "Detect" && index === rows.length - 1 ? "detect" : `${prefix}${index}`;
    ids.push(id);
    channels.push(result.channels);
    strides.push(result.stride);
    nodes.push({ id, type: result.type, data: result.data });
    for (const source of inputs) edges.push({ source, target: id });
  });
  const graph = { nodes, edges };
  checkRows(graph, ids);
  const task = nodes.some((n) => n.type === "Detect") ? "detect" : "classify";
  return { graph, nc, scale: key, task, warnings };
}

/** The engine's own analysis, with its errors moved onto the row they concern. */
function checkRows(graph: ModelGraph, ids: string[]): void {
  try {
    planGraph(graph, [256, 256, 3]);
  } catch (error) {
    if (!(error instanceof GraphError)) throw error;
    const row = error.nodeId ? ids.indexOf(error.nodeId) : -1;
    throw new UltralyticsYamlError(row >= 0 ? `row ${row}: ${error.message}` : error.message, row >= 0 ? row : undefined);
  }
}

export { graphToUltralyticsYaml } from "./ultralytics-yaml-export";
