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

/** Zeros appended to the first two axes of an OIHW-like weight, up to [a, b, kh, kw]. */
function padTo(g: TrainGraph, weight: string, [a0, b0]: [number, number], [a, b]: [number, number]): string {
  return a > a0 || b > b0 ? g.op("Pad", [weight, g.i64([0, 0, 0, 0, a - a0, b - b0, 0, 0])], { mode: "constant" }) : weight;
}

/**
 * The NCHWc kernel's filter for a conv of `c` input and `co` output channels from its OIHW weight:
 * OIHWBo (input read as NCHW) or OIHWBiBo, element [o, i, y, x] at block (o / B, i / B), inner
 * [i % B][o % B]; zero-padded to whole blocks, [coPad, cPad, kh, kw].
 */
function blockedFilter(g: TrainGraph, weight: string, c: number, co: number, [kh, kw]: [number, number], block: number): string {
  const coPad = roundUp(co, block);
  const cPad = c < block ? c : roundUp(c, block);
  const padded = padTo(g, weight, [co, c], [coPad, cPad]);
  const blocked =
    c < block
      ? g.transpose(g.reshape(padded, [coPad / block, block, c, kh, kw]), [0, 2, 3, 4, 1])
      : g.transpose(g.reshape(padded, [coPad / block, block, cPad / block, block, kh, kw]), [0, 2, 4, 5, 3, 1]);
  return g.reshape(blocked, [coPad, cPad, kh, kw]);
}

/**
 * The same for the input gradient's conv (stride 1): the filter rotated 180° with input and output
 * channels swapped, from the forward's OIHW weight [co, c, kh, kw]. One transpose to the blocks,
 * then the taps reversed as whole blocks (a Slice with negative steps is fast on contiguous blocks,
 * slow element by element).
 */
export function blockedFlippedFilter(g: TrainGraph, weight: string, co: number, c: number, [kh, kw]: [number, number], block: number): string {
  const k2 = kh * kw;
  const cPad = roundUp(c, block);
  const coPad = co < block ? co : roundUp(co, block);
  const padded = padTo(g, weight, [co, c], [coPad, cPad]);
  const reversed = (t: string) => g.slice(t, [-1], [-(2 ** 62)], [2], [-1]);
  const blocked =
    co < block
      ? reversed(g.transpose(g.reshape(padded, [co, cPad / block, block, k2]), [1, 0, 3, 2]))
      : reversed(g.transpose(g.reshape(padded, [coPad / block, block, cPad / block, block, k2]), [2, 0, 4, 1, 3]));
  return g.reshape(blocked, [cPad, coPad, kh, kw]);
}

/**
 * y [n, co, ho, wo] (NCHW) = conv(x [n, c, h, w], weight OIHW [co, c, kh, kw]) + bias, on the NCHWc
 * kernel; `relu` fuses the ReLU into it; `filter`: the weight already blocked (blockedFlippedFilter).
 */
export function nchwcConv(
  g: TrainGraph,
  x: string,
  weight: string | { filter: string },
  bias: string | null,
  shape: { c: number; co: number },
  a: NchwcConvAttributes,
  block: number,
  relu = false,
): string {
  const { c, co } = shape;
  const coPad = roundUp(co, block);
  const filter = typeof weight === "string" ? blockedFilter(g, weight, c, co, a.kernel, block) : weight.filter;
  const inputs = [c < block ? x : g.nchwcOp("ReorderInput", [x]), filter];
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
