import type { z } from "zod";
import type { Shape } from "../registry";

/**
 * One node of a block's inner graph. `id` is local to the block: the planner names it
 * `<block id>_<id>` ("" is the block's own id). `inputs` are local ids or `$0`, `$1`… for the
 * block's own inputs, in edge order. Inner nodes may be blocks themselves.
 */
export interface InnerNode {
  id: string;
  type: string;
  data?: Record<string, unknown>;
  inputs: string[];
}

export interface BlockExpansion {
  nodes: InnerNode[];
  /** The local id whose output is the block's output. */
  output: string;
}

/**
 * A block is a node type defined by the graph it stands for (C2f, SPPF, a ResNet basic block…).
 * Everything the engine does with it — shapes, costs, TF.js, ONNX, ONNX Runtime training — goes
 * through that expansion, so a block needs no code of its own beyond `expand`.
 */
export interface BlockTypeDef<D = unknown> {
  type: string;
  aliases?: string[];
  description: string;
  inputs: { min: number; max: number };
  dataSchema: z.ZodType<D>;
  /** The inner graph for these input shapes (channels decide widths and shortcuts, as in PyTorch). */
  expand(inputShapes: Shape[], data: D): BlockExpansion;
}

const blocks = new Map<string, BlockTypeDef>();
const byLowerName = new Map<string, BlockTypeDef>();

export function registerBlockType<D>(def: BlockTypeDef<D>): void {
  const stored = def as unknown as BlockTypeDef;
  blocks.set(def.type, stored);
  for (const name of [def.type, ...(def.aliases ?? [])]) byLowerName.set(name.toLowerCase(), stored);
}

/** Looks a block up by name or alias, case-insensitively. */
export function findBlockType(type: string): BlockTypeDef | undefined {
  return byLowerName.get(type.toLowerCase());
}

export function blockTypes(): BlockTypeDef[] {
  return [...blocks.values()];
}

/** The planner's name for an inner node of block `blockId`. */
export function innerNodeId(blockId: string, localId: string): string {
  return localId === "" ? blockId : `${blockId}_${localId}`;
}
