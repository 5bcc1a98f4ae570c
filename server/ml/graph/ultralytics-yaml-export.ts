// Our graph → Ultralytics model YAML, one row per node in the graph's order, with the widths and
// repeats it has (depth_multiple = width_multiple = 1), so reading the file back gives the same graph.
import { findLayerType, planGraph } from "./index";
import { findBlockType } from "./blocks";
import { GraphError, mergedEdges, type ModelGraph } from "./schema";
import { SUPPORTED_MODULES, UltralyticsYamlError } from "./ultralytics-yaml";

type Arg = number | boolean | string | null | "nc" | Arg[];

interface Row {
  from: number | number[];
  repeats: number;
  module: string;
  args: Arg[];
}

/** Trailing arguments equal to Ultralytics' defaults are left out, as the published files do. */
function trimmed(args: Arg[], defaults: Arg[]): Arg[] {
  const out = [...args];
  while (out.length > 0 && defaults[out.length - 1] !== undefined && JSON.stringify(out[out.length - 1]) === JSON.stringify(defaults[out.length - 1])) out.pop();
  return out;
}

function formatArg(arg: Arg): string {
  if (Array.isArray(arg)) return `[${arg.map(formatArg).join(", ")}]`;
  if (arg === null) return "None";
  if (arg === "nc") return "nc";
  if (typeof arg === "boolean") return arg ? "True" : "False";
  if (typeof arg === "string") return JSON.stringify(arg);
  return String(arg);
}

function formatRow(row: Row, index: number): string {
  const from = Array.isArray(row.from) ? `[${row.from.join(", ")}]` : String(row.from);
  return `  - [${from}, ${row.repeats}, ${row.module}, ${formatArg(row.args)}] # ${index}`;
}

/** Writes the graph as a model YAML; a node Ultralytics cannot express is refused by name. */
export function graphToUltralyticsYaml(graph: ModelGraph, opts: { name?: string; nc?: number } = {}): string {
  let order: string[];
  try {
    order = planGraph(graph, [256, 256, 3]).summary.order;
  } catch (error) {
    if (error instanceof GraphError) throw new UltralyticsYamlError(`the graph does not compile: ${error.message}`);
    throw error;
  }
  const byId = new Map(graph.nodes.map((n) => [n.id, n]));
  const inputsOf = new Map<string, string[]>(graph.nodes.map((n) => [n.id, []]));
  for (const { source, target } of mergedEdges(graph)) inputsOf.get(target)!.push(source);
  const typeOf = (id: string) => (findLayerType(byId.get(id)!.type) ?? findBlockType(byId.get(id)!.type))!;
  const rowIds = order.filter((id) => typeOf(id).type !== "Input");
  const rowIndex = new Map(rowIds.map((id, i) => [id, i]));
  const detect = rowIds.map((id) => byId.get(id)!).find((n) => typeOf(n.id).type === "Detect");
  const nc = detect ? (typeOf(detect.id).dataSchema.parse(detect.data ?? {}) as { nc: number }).nc : (opts.nc ?? 1);

  const rows = rowIds.map((id, index): Row => {
    const node = byId.get(id)!;
    const def = typeOf(id);
    const data = def.dataSchema.parse(node.data ?? {}) as Record<string, unknown>;
    const where = `node "${id}" (${node.type})`;
    const sources = inputsOf.get(id)!.map((source) => {
      if (typeOf(source).type === "Input") {
        if (index !== 0) throw new UltralyticsYamlError(`${where} reads the input image; in Ultralytics YAML only the first row can`);
        return -1;
      }
      const at = rowIndex.get(source)!;
      return at === index - 1 ? -1 : at;
    });
    const from = sources.length === 1 ? sources[0] : sources;
    const channels = (c: unknown) => {
      const value = c as number;
      if (value % 8 !== 0 && value !== nc) throw new UltralyticsYamlError(`${where}: ${value} channels; Ultralytics rounds widths up to a multiple of 8, so only multiples of 8 (or nc) survive a round trip`);
      return value;
    };
    switch (def.type) {
      case "ConvBlock": {
        if (data.activation !== "silu" && data.activation !== "none") throw new UltralyticsYamlError(`${where}: activation ${String(data.activation)} has no per-row form in Ultralytics YAML (only SiLU or none)`);
        const args: Arg[] = [channels(data.filters), data.kernel_size as number, data.stride as number, (data.padding as number | undefined) ?? null, data.groups as number, data.dilation as number, data.activation === "silu"];
        return { from, repeats: 1, module: "Conv", args: trimmed(args, [undefined as never, 1, 1, null, 1, 1, true]) };
      }
      case "C2f":
        return { from, repeats: data.repeats as number, module: "C2f", args: trimmed([channels(data.filters), data.shortcut as boolean, data.groups as number, data.expansion as number], [undefined as never, false, 1, 0.5]) };
      case "Bottleneck":
        return {
          from,
          repeats: 1,
          module: "Bottleneck",
          args: trimmed([channels(data.filters), data.shortcut as boolean, data.groups as number, data.kernel_size as number[], data.expansion as number], [undefined as never, true, 1, [3, 3], 0.5]),
        };
      case "SPPF":
        return { from, repeats: 1, module: "SPPF", args: [channels(data.filters), data.kernel_size as number] };
      case "Upsample":
        return { from, repeats: 1, module: "nn.Upsample", args: [null, data.scale as number, "nearest"] };
      case "Concat":
        return { from, repeats: 1, module: "Concat", args: [1] };
      case "Detect":
        if ((data.nc as number) !== nc) throw new UltralyticsYamlError(`${where}: every Detect must have the file's nc (${nc})`);
        return { from, repeats: 1, module: "Detect", args: ["nc"] };
      default:
        throw new UltralyticsYamlError(`${where} has no Ultralytics YAML module; the rows can be ${SUPPORTED_MODULES.join(", ")}`);
    }
  });
  const headStart = rows.findIndex((r) => r.module === "nn.Upsample" || r.module === "Concat" || r.module === "Detect");
  const split = headStart < 0 ? rows.length : headStart;
  const lines = [
    `# ${opts.name ?? "model"}: written by the studio from its layer graph (widths and repeats as built)`,
    `nc: ${nc} # number of classes`,
    "depth_multiple: 1.0",
    "width_multiple: 1.0",
    "",
    "backbone:",
    "  # [from, repeats, module, args]",
    ...rows.slice(0, split).map((r, i) => formatRow(r, i)),
    "",
    split === rows.length ? "head: []" : "head:",
    ...rows.slice(split).map((r, i) => formatRow(r, split + i)),
    "",
  ];
  return lines.join("\n");
}
