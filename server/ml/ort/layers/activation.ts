// Elementwise activations: forward, and backward from what the forward kept (the output where it
// suffices, so the input can be freed). Shared by the activation node types and the activations
// fused into Conv2d/Dense.
import { float, type TrainGraph } from "../builder";

export type ActivationName = "linear" | "relu" | "relu6" | "silu" | "sigmoid" | "tanh" | "leaky_relu";

export interface ActivationTape {
  activation: ActivationName;
  x: string;
  y: string;
  sigmoid?: string;
  alpha?: number;
}

export function activationForward(g: TrainGraph, activation: ActivationName, x: string, alpha = 0.01): ActivationTape {
  switch (activation) {
    case "linear":
      return { activation, x, y: x };
    case "relu":
      return { activation, x, y: g.op("Relu", [x]) };
    case "relu6":
      return { activation, x, y: g.op("Clip", [x, g.f32(0), g.f32(6)]) };
    case "sigmoid":
      return { activation, x, y: g.op("Sigmoid", [x]) };
    case "tanh":
      return { activation, x, y: g.op("Tanh", [x]) };
    case "silu": {
      const sigmoid = g.op("Sigmoid", [x]);
      return { activation, x, y: g.mul(x, sigmoid), sigmoid };
    }
    case "leaky_relu":
      return { activation, x, y: g.op("LeakyRelu", [x], { alpha: float(alpha) }), alpha };
  }
}

/** dx from dy. `folded`: a ReLU whose mask a following MaxPool already applied. */
export function activationBackward(g: TrainGraph, tape: ActivationTape, dy: string, folded = false): string {
  const { x, y } = tape;
  switch (tape.activation) {
    case "linear":
      return dy;
    case "relu":
      // y ≥ 0, so Sign(y) is exactly the 0/1 mask (cheaper than Where on a boolean tensor).
      return folded ? dy : g.mul(dy, g.op("Sign", [y]));
    case "relu6": {
      // TF.js: dy where 0 < x ≤ 6.
      const inside = g.op("And", [g.op("Greater", [x, g.f32(0)]), g.op("LessOrEqual", [x, g.f32(6)])]);
      return g.mul(dy, g.op("Cast", [inside], { to: 1 }));
    }
    case "sigmoid":
      return g.mul(dy, g.mul(y, g.sub(g.f32(1), y)));
    case "tanh":
      return g.mul(dy, g.sub(g.f32(1), g.mul(y, y)));
    case "silu": {
      // d/dx x·σ(x) = σ + y − y·σ
      const s = tape.sigmoid!;
      return g.mul(dy, g.sub(g.add(s, y), g.mul(y, s)));
    }
    case "leaky_relu": {
      const alpha = tape.alpha!;
      const slope = g.op("Where", [g.op("Greater", [x, g.f32(0)]), g.f32(1), g.f32(alpha)]);
      return g.mul(dy, slope);
    }
  }
}
