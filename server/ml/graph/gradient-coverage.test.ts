import * as tf from "@tensorflow/tfjs";
import { beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { tfjsGradientGaps } from "./gradient-coverage";
import "./index";
import { layerTypes, type LayerTypeDef } from "./registry";

class EinsumDense extends tf.layers.Layer {
  static className = "GradientCoverageEinsumDense";
  private kernel?: tf.LayerVariable;
  build(inputShape: tf.Shape | tf.Shape[]): void {
    const features = (inputShape as number[])[1];
    this.kernel = this.addWeight("kernel", [features, features], "float32", tf.initializers.glorotUniform({ seed: 1 }));
    this.built = true;
  }
  call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    const x = Array.isArray(inputs) ? inputs[0] : inputs;
    return tf.einsum("bi,ij->bj", x, this.kernel!.read());
  }
}

describe("TF.js gradient coverage of the layer registry", () => {
  beforeAll(async () => {
    await tf.setBackend("cpu");
  });

  it("every registered node type declares its TF.js gradients, and each declared instance trains", () => {
    expect(layerTypes().length).toBeGreaterThan(20);
    expect(tfjsGradientGaps()).toEqual([]);
  });

  it("reports a type that declares no gradients, and one whose weights get none", () => {
    const base = layerTypes().find((def) => def.type === "Dense")!;
    const undeclared: LayerTypeDef = { ...base, type: "Undeclared", gradients: undefined };
    // A layer whose kernel enters through Einsum, which has no TF.js gradient.
    const noGradient: LayerTypeDef = {
      ...base,
      type: "EinsumDense",
      dataSchema: z.object({}),
      inferShape: ([input]) => input,
      build([input], _data, ctx) {
        return new EinsumDense({ name: ctx.name }).apply(input) as tf.SymbolicTensor;
      },
      gradients: { tfjs: { examples: [{ inputShapes: [[3]], data: {} }] } },
    };
    const gaps = tfjsGradientGaps([undeclared, noGradient]);
    expect(gaps).toEqual([
      { type: "Undeclared", reason: expect.stringMatching(/declares no TF\.js gradients/) },
      { type: "EinsumDense", example: 0, reason: expect.stringMatching(/gradient function not found for Einsum/i) },
    ]);
  });
});
