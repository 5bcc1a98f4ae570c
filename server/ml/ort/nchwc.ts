// Convolutions on ONNX Runtime's blocked NCHWc CPU kernels (com.microsoft.nchwc Conv: channels in
// blocks of 8 on AVX2, 16 on AVX-512), with the weights still graph inputs. ORT's own NCHWc rewrite
// only takes constant weights, so the graph reorders the filter itself (a few small copies per step)
// and the activations in and out with ReorderInput/ReorderOutput. Which layers gain is measured
// (formulations.ts): the blocked kernels win on wide layers and lose on the first, 3-channel one here.
import { TrainGraph } from "./builder";
import { createOrtSession, ort, type OrtTarget } from "./session";

const roundUp = (value: number, block: number) => Math.ceil(value / block) * block;

/**
 * Whether a convolution with `c` input channels runs blocked: fewer than a block read NCHW as they
 * are; more need a multiple of 4 (ReorderInput's limit; it pads to the block with zeros).
 */
export function nchwcFits(c: number, group: number, block: number): boolean {
  return block > 0 && group === 1 && (c < block || c % 4 === 0);
}

export interface NchwcConvAttributes {
  kernel: [number, number];
  strides: [number, number];
  pads: number[];
  dilations: [number, number];
}

/**
 * y [n, co, ho, wo] (NCHW) = conv(x [n, c, h, w], weight OIHW [co, c, kh, kw]) + bias, on the NCHWc
 * kernel; `relu` fuses the ReLU into it.
 */
export function nchwcConv(g: TrainGraph, x: string, weight: string, bias: string | null, shape: { c: number; co: number }, a: NchwcConvAttributes, block: number, relu = false): string {
  const { c, co } = shape;
  const [kh, kw] = a.kernel;
  const coPad = roundUp(co, block);
  const direct = c < block;
  const cPad = direct ? c : roundUp(c, block);
  const padded = coPad > co || cPad > c ? g.op("Pad", [weight, g.i64([0, 0, 0, 0, coPad - co, cPad - c, 0, 0])], { mode: "constant" }) : weight;
  // OIHW → OIHWBo (input read as NCHW) or OIHWBiBo: element [o, i, y, x] at block (o / B, i / B), inner [i % B][o % B].
  const blocked = direct
    ? g.transpose(g.reshape(padded, [coPad / block, block, c, kh, kw]), [0, 2, 3, 4, 1])
    : g.transpose(g.reshape(padded, [coPad / block, block, cPad / block, block, kh, kw]), [0, 2, 4, 5, 3, 1]);
  const filter = g.reshape(blocked, [coPad, cPad, kh, kw]);
  const inputs = [direct ? x : g.nchwcOp("ReorderInput", [x]), filter];
  if (bias) inputs.push(coPad > co ? g.op("Pad", [bias, g.i64([0, coPad - co])], { mode: "constant" }) : bias);
  const attributes = { kernel_shape: a.kernel, strides: a.strides, pads: a.pads, dilations: a.dilations, ...(relu ? { activation: "Relu" } : {}) };
  return g.nchwcOp("ReorderOutput", [g.nchwcOp("Conv", inputs, attributes)], { channels: co });
}

let probe: Promise<number> | undefined;

/**
 * The channel block of ONNX Runtime's NCHWc kernels on this CPU (ReorderInput pads 4 channels up to
 * it), or 0 where the build or CPU has none (a block of 4 or less: nothing to gain).
 */
export function nchwcBlockSize(target: OrtTarget = { provider: "cpu", deviceId: 0, threads: 1 }): Promise<number> {
  probe ??= (async () => {
    const g = new TrainGraph();
    g.input("x", [1, 4, 1, 1]);
    g.output("y", g.nchwcOp("ReorderInput", ["x"]), [1, 4, 1, 1]);
    try {
      const session = await createOrtSession(g.toBytes("nchwc_probe"), { ...target, provider: "cpu" });
      try {
        const out = await session.run({ x: new ort.Tensor("float32", new Float32Array(4), [1, 4, 1, 1]) });
        const block = out.y.dims[1];
        return block > 4 ? block : 0;
      } finally {
        await session.release();
      }
    } catch {
      return 0;
    }
  })();
  return probe;
}
