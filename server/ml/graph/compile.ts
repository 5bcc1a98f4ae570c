import * as tf from "@tensorflow/tfjs";
import { planGraph } from "./analyze";
import type { BuildContext } from "./registry";
import type { ModelGraph } from "./schema";

/** A 31-bit seed per layer from the model seed and the layer name (FNV-1a), stable across graph edits. */
export function layerSeed(seed: number, layerName: string): number {
  let hash = 0x811c9dc5;
  for (const char of `${seed}:${layerName}`) {
    hash ^= char.codePointAt(0)!;
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash & 0x7fffffff;
}

/**
 * Builds a trainable TF.js model. Every layer is named after its node id (helper layers get
 * `<id>_…` names), so weights can be matched by name across runs; initial weights depend only on
 * the seed. Outputs are the nodes without outgoing edges, in the order of `graph.nodes`.
 */
export function compileGraph(graph: ModelGraph, opts: { inputShape: [number, number, number]; seed?: number }): tf.LayersModel {
  const plan = planGraph(graph, opts.inputShape);
  const seed = opts.seed ?? 0;
  const tensors = new Map<string, tf.SymbolicTensor>();
  for (const { node, def, data, inputIds, inputShapes } of plan.nodes) {
    const ctx: BuildContext = {
      name: node.id,
      inputShapes,
      seed: layerSeed(seed, node.id),
      initializer(kind, layerName = node.id) {
        const args = { seed: layerSeed(seed, layerName) };
        return kind === "he" ? tf.initializers.heNormal(args) : tf.initializers.glorotUniform(args);
      },
    };
    tensors.set(node.id, def.build(inputIds.map((id) => tensors.get(id)!), data, ctx));
  }
  const outputs = plan.outputIds.map((id) => tensors.get(id)!);
  return tf.model({ inputs: tensors.get(plan.inputId)!, outputs: outputs.length === 1 ? outputs[0] : outputs, name: "model" });
}
