// Does every node type train on the TF.js engine? Each type declares instances of itself
// (LayerTypeDef.gradients); this builds each one alone, runs one backward pass on the active backend and
// reports the types whose inputs or weights get no usable gradient. Blocks are made of layers, so
// covering the layers covers them.
import * as tf from "@tensorflow/tfjs";
import { layerSeed } from "./compile";
import { layerTypes, type BuildContext, type GradientExample, type LayerTypeDef } from "./registry";

export interface GradientGap {
  type: string;
  /** Index of the declared example, when one failed. */
  example?: number;
  reason: string;
}

const BATCH = 2;

/** The gaps of `defs` (default: every registered layer type); empty when all of them train. */
export function tfjsGradientGaps(defs: LayerTypeDef[] = layerTypes()): GradientGap[] {
  const gaps: GradientGap[] = [];
  for (const def of defs) {
    const declared = def.gradients?.tfjs;
    if (!declared) {
      gaps.push({ type: def.type, reason: "declares no TF.js gradients (LayerTypeDef.gradients)" });
      continue;
    }
    if ("none" in declared) continue;
    if (declared.examples.length === 0) gaps.push({ type: def.type, reason: "declares no example to check its gradients on" });
    declared.examples.forEach((example, index) => {
      const reason = exampleGap(def, example);
      if (reason) gaps.push({ type: def.type, example: index, reason });
    });
  }
  return gaps;
}

function exampleGap(def: LayerTypeDef, example: GradientExample): string | null {
  let model: tf.LayersModel | undefined;
  const variables: tf.Variable[] = [];
  try {
    const data = def.dataSchema.parse(example.data);
    const expected = def.inferShape(example.inputShapes, data);
    const inputs = example.inputShapes.map((shape) => tf.input({ shape }));
    const ctx: BuildContext = {
      name: def.type.toLowerCase(),
      inputShapes: example.inputShapes,
      seed: layerSeed(0, def.type),
      initializer(kind, layerName = def.type) {
        const args = { seed: layerSeed(0, layerName) };
        return kind === "he" ? tf.initializers.heNormal(args) : tf.initializers.glorotUniform(args);
      },
    };
    const built = tf.model({ inputs, outputs: def.build(inputs, data, ctx) });
    model = built;
    const outputShape = (built.outputShape as (number | null)[]).slice(1);
    if (outputShape.join() !== expected.join()) return `builds output [${outputShape.join(", ")}] but inferShape says [${expected.join(", ")}]`;

    for (const [i, shape] of example.inputShapes.entries()) variables.push(tf.variable(tf.randomNormal([BATCH, ...shape], 0, 1, "float32", i + 1)));
    const weights = built.trainableWeights.map((w) => ({ name: w.originalName, variable: w.read() as tf.Variable }));
    const { value, grads } = tf.variableGrads(() => {
      const y = built.apply(variables.length === 1 ? variables[0] : variables, { training: true }) as tf.Tensor;
      // A random projection of the output, so no gradient is the trivially uniform one of a plain sum.
      return tf.sum(tf.mul(y, tf.randomNormal(y.shape, 0, 1, "float32", 97))) as tf.Scalar;
    }, [...variables, ...weights.map((w) => w.variable)]);
    try {
      const targets = [...variables.map((v, i) => ({ label: `input ${i + 1}`, variable: v })), ...weights.map((w) => ({ label: `weight ${w.name}`, variable: w.variable }))];
      for (const { label, variable } of targets) {
        const grad = grads[variable.name];
        if (!grad) return `${label} gets no gradient`;
        const values = grad.dataSync();
        if (values.some((v) => !Number.isFinite(v))) return `${label} gets a non-finite gradient`;
        if (values.every((v) => v === 0)) return `${label} gets an all-zero gradient`;
      }
      return null;
    } finally {
      tf.dispose([value, ...Object.values(grads)]);
    }
  } catch (error) {
    return (error as Error).message;
  } finally {
    tf.dispose(variables);
    model?.dispose();
  }
}
