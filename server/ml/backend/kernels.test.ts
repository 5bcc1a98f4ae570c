import { describe, it, expect, beforeAll } from "vitest";
import * as tf from "@tensorflow/tfjs";
import { initBackend } from "./index";
import { convInfoFor } from "./conv-grads";
import { Composer } from "./kernel-compose";
import { registerGradientKernels } from "./kernels";
import { conv2dBackpropFilterByMatMul } from "./wasm-kernels";

// The plain CPU backend's own kernels are the reference; keep them before ours replace some.
const cpuOriginals = new Map(
  ["Conv2DBackpropFilter", "Conv2DBackpropInput", "MaxPoolGrad", "AvgPoolGrad", "DepthwiseConv2dNativeBackpropFilter", "DepthwiseConv2dNativeBackpropInput", "Sum", "Tile"].map(
    (name) => [name, tf.getKernel(name, "cpu")!] as const,
  ),
);

function seededValues(size: number, seed: number): Float32Array {
  let state = seed >>> 0 || 1;
  return Float32Array.from({ length: size }, () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 32 - 0.5;
  });
}

type Inputs = Record<string, { shape: number[]; values: Float32Array }>;

async function runOriginalCpu(kernelName: string, inputs: Inputs, attrs: Record<string, unknown>): Promise<Float32Array> {
  await tf.setBackend("cpu");
  const tensors = Object.fromEntries(Object.entries(inputs).map(([name, { shape, values }]) => [name, tf.tensor(values, shape)]));
  const backend = tf.backend();
  const out = cpuOriginals.get(kernelName)!.kernelFunc({ inputs: tensors, backend, attrs: attrs as tf.NamedAttrMap }) as tf.TensorInfo;
  const values = backend.readSync(out.dataId) as Float32Array;
  backend.disposeData(out.dataId);
  tf.dispose(Object.values(tensors));
  return Float32Array.from(values);
}

async function runOurs(backendName: "wasm" | "cpu", kernelName: string, inputs: Inputs, attrs: Record<string, unknown>): Promise<{ shape: number[]; values: Float32Array }> {
  await tf.setBackend(backendName);
  const tensors = Object.fromEntries(Object.entries(inputs).map(([name, { shape, values }]) => [name, tf.tensor(values, shape)]));
  const out = tf.engine().runKernel(kernelName, tensors, attrs as tf.NamedAttrMap) as tf.Tensor;
  const result = { shape: out.shape, values: out.dataSync() as Float32Array };
  tf.dispose([out, ...Object.values(tensors)]);
  return result;
}

function expectClose(actual: Float32Array, expected: Float32Array, label: string): void {
  expect(actual.length, label).toBe(expected.length);
  const scale = Math.max(1, ...Array.from(expected, Math.abs));
  let worst = 0;
  for (let i = 0; i < expected.length; i++) worst = Math.max(worst, Math.abs(actual[i] - expected[i]));
  expect(worst / scale, `${label}: max abs diff ${worst} (scale ${scale})`).toBeLessThan(1e-4);
}

interface ConvCase {
  label: string;
  x: [number, number, number, number];
  filter: [number, number, number, number];
  strides: [number, number];
  pad: "same" | "valid" | [[number, number], [number, number], [number, number], [number, number]];
}

const convCases: ConvCase[] = [
  { label: "3x3 same stride 1", x: [2, 9, 7, 3], filter: [3, 3, 3, 4], strides: [1, 1], pad: "same" },
  { label: "3x3 same stride 2 odd size", x: [3, 9, 11, 2], filter: [3, 3, 2, 5], strides: [2, 2], pad: "same" },
  { label: "3x3 valid stride 2", x: [2, 10, 8, 4], filter: [3, 3, 4, 3], strides: [2, 2], pad: "valid" },
  { label: "2x3 valid mixed strides", x: [2, 7, 9, 3], filter: [2, 3, 3, 2], strides: [1, 2], pad: "valid" },
  { label: "1x1 stride 2", x: [2, 6, 6, 5], filter: [1, 1, 5, 3], strides: [2, 2], pad: "valid" },
  { label: "5x5 same", x: [1, 8, 6, 2], filter: [5, 5, 2, 3], strides: [1, 1], pad: "same" },
  { label: "explicit padding", x: [2, 6, 7, 2], filter: [3, 3, 2, 2], strides: [2, 1], pad: [[0, 0], [1, 2], [0, 1], [0, 0]] },
  // Equal strides > 1 take the phase (sub-pixel) path of Conv2DBackpropInput.
  { label: "3x3 same stride 2 even size, batch 1", x: [1, 8, 10, 3], filter: [3, 3, 3, 6], strides: [2, 2], pad: "same" },
  { label: "3x3 same stride 2 odd height even width", x: [3, 7, 8, 4], filter: [3, 3, 4, 2], strides: [2, 2], pad: "same" },
  { label: "3x3 stride 2 explicit 1-pixel padding, even", x: [2, 8, 6, 3], filter: [3, 3, 3, 5], strides: [2, 2], pad: [[0, 0], [1, 1], [1, 1], [0, 0]] },
  { label: "3x3 stride 2 explicit 1-pixel padding, odd", x: [3, 9, 7, 2], filter: [3, 3, 2, 3], strides: [2, 2], pad: [[0, 0], [1, 1], [1, 1], [0, 0]] },
  { label: "3x3 stride 2 explicit padding wider than the filter", x: [1, 5, 6, 2], filter: [3, 3, 2, 2], strides: [2, 2], pad: [[0, 0], [4, 0], [0, 3], [0, 0]] },
  { label: "5x5 same stride 2", x: [2, 11, 9, 3], filter: [5, 5, 3, 4], strides: [2, 2], pad: "same" },
  { label: "2x4 valid stride 3", x: [2, 10, 13, 2], filter: [2, 4, 2, 3], strides: [3, 3], pad: "valid" },
];

function convOutShape(c: ConvCase, depthwise = false): number[] {
  return tf.backend_util.computeConv2DInfo(c.x, c.filter, c.strides, 1, c.pad, undefined, depthwise).outShape;
}

const size = (shape: number[]) => shape.reduce((a, b) => a * b, 1);

beforeAll(async () => {
  await initBackend("wasm");
  registerGradientKernels();
});

describe.each(["wasm", "cpu"] as const)("Conv2DBackpropFilter on %s matches the TF.js CPU original", (backendName) => {
  it.each(convCases)("Conv2DBackpropFilter: $label", async (c) => {
    const dyShape = convOutShape(c);
    const inputs = { x: { shape: c.x, values: seededValues(size(c.x), 1) }, dy: { shape: dyShape, values: seededValues(size(dyShape), 2) } };
    const attrs = { strides: c.strides, pad: c.pad, dataFormat: "NHWC", dimRoundingMode: undefined, filterShape: c.filter };
    const ours = await runOurs(backendName, "Conv2DBackpropFilter", inputs, attrs);
    expect(ours.shape).toEqual(c.filter);
    expectClose(ours.values, await runOriginalCpu("Conv2DBackpropFilter", inputs, attrs), c.label);
  });
});

describe("Conv2DBackpropFilter on wasm in chunks of images", () => {
  it.each(convCases)("matches the CPU original when the im2col matrix holds one or two images at a time: $label", async (c) => {
    const dyShape = convOutShape(c);
    const inputs = { x: { shape: c.x, values: seededValues(size(c.x), 16) }, dy: { shape: dyShape, values: seededValues(size(dyShape), 17) } };
    const attrs = { strides: c.strides, pad: c.pad, dataFormat: "NHWC", dimRoundingMode: undefined, filterShape: c.filter };
    const expected = await runOriginalCpu("Conv2DBackpropFilter", inputs, attrs);
    await tf.setBackend("wasm");
    const info = convInfoFor(c.x, c.filter, { strides: c.strides, pad: c.pad });
    const columnsPerImage = c.filter[0] * c.filter[1] * c.filter[2] * info.outHeight * info.outWidth;
    for (const imagesPerChunk of [1, 2]) {
      const result = tf.tidy(() => {
        const x = tf.tensor(inputs.x.values, c.x);
        const dy = tf.tensor(inputs.dy.values, dyShape);
        const out = conv2dBackpropFilterByMatMul(new Composer(tf.backend(), "wasm"), x, dy, info, imagesPerChunk * columnsPerImage);
        return tf.engine().makeTensorFromTensorInfo(out);
      });
      expect(result.shape).toEqual(c.filter);
      expectClose(result.dataSync() as Float32Array, expected, `${c.label}, ${imagesPerChunk} image(s) per chunk`);
      result.dispose();
    }
  });
});

// The CPU backend keeps its own Conv2DBackpropInput, so only WASM's is ours to check.
describe("Conv2DBackpropInput on wasm matches the TF.js CPU original", () => {
  it.each(convCases)("Conv2DBackpropInput: $label", async (c) => {
    const dyShape = convOutShape(c);
    const inputs = { dy: { shape: dyShape, values: seededValues(size(dyShape), 3) }, filter: { shape: c.filter, values: seededValues(size(c.filter), 4) } };
    const attrs = { strides: c.strides, pad: c.pad, dataFormat: "NHWC", dimRoundingMode: undefined, inputShape: c.x };
    const ours = await runOurs("wasm", "Conv2DBackpropInput", inputs, attrs);
    expect(ours.shape).toEqual(c.x);
    expectClose(ours.values, await runOriginalCpu("Conv2DBackpropInput", inputs, attrs), c.label);
  });
});

describe("depthwise gradient kernels on wasm match the TF.js CPU originals", () => {
  const depthwiseCases = [
    { label: "3x3 same stride 1", x: [2, 7, 9, 4], filter: [3, 3, 4, 1], strides: [1, 1], pad: "same" },
    { label: "3x3 same stride 2, multiplier 2", x: [3, 9, 8, 3], filter: [3, 3, 3, 2], strides: [2, 2], pad: "same" },
    { label: "5x3 valid stride 2x1", x: [2, 11, 6, 2], filter: [5, 3, 2, 1], strides: [2, 1], pad: "valid" },
  ] as unknown as ConvCase[];

  it.each(depthwiseCases)("DepthwiseConv2dNativeBackpropFilter: $label", async (c) => {
    const dyShape = convOutShape(c, true);
    const inputs = { x: { shape: c.x, values: seededValues(size(c.x), 5) }, dy: { shape: dyShape, values: seededValues(size(dyShape), 6) } };
    const attrs = { strides: c.strides, dilations: 1, pad: c.pad, dimRoundingMode: undefined, filterShape: c.filter };
    const ours = await runOurs("wasm", "DepthwiseConv2dNativeBackpropFilter", inputs, attrs);
    expect(ours.shape).toEqual(c.filter);
    expectClose(ours.values, await runOriginalCpu("DepthwiseConv2dNativeBackpropFilter", inputs, attrs), c.label);
  });

  it.each(depthwiseCases)("DepthwiseConv2dNativeBackpropInput: $label", async (c) => {
    const dyShape = convOutShape(c, true);
    const inputs = { dy: { shape: dyShape, values: seededValues(size(dyShape), 7) }, filter: { shape: c.filter, values: seededValues(size(c.filter), 8) } };
    const attrs = { strides: c.strides, dilations: 1, pad: c.pad, dimRoundingMode: undefined, inputShape: c.x };
    const ours = await runOurs("wasm", "DepthwiseConv2dNativeBackpropInput", inputs, attrs);
    expect(ours.shape).toEqual(c.x);
    expectClose(ours.values, await runOriginalCpu("DepthwiseConv2dNativeBackpropInput", inputs, attrs), c.label);
  });
});

interface PoolCase {
  label: string;
  x: [number, number, number, number];
  filterSize: [number, number];
  strides: [number, number];
  pad: "same" | "valid";
}

describe("pooling gradient kernels on wasm", () => {
  const poolCases: PoolCase[] = [
    { label: "2x2 stride 2", x: [2, 8, 6, 3], filterSize: [2, 2], strides: [2, 2], pad: "valid" },
    { label: "2x2 stride 2 odd size", x: [2, 7, 9, 3], filterSize: [2, 2], strides: [2, 2], pad: "valid" },
    { label: "3x3 stride 2 same", x: [2, 9, 7, 4], filterSize: [3, 3], strides: [2, 2], pad: "same" },
    { label: "5x5 stride 1 same (SPPF)", x: [1, 8, 8, 3], filterSize: [5, 5], strides: [1, 1], pad: "same" },
    { label: "3x2 stride 1 valid", x: [2, 6, 5, 2], filterSize: [3, 2], strides: [1, 1], pad: "valid" },
  ];

  function poolOutShape(c: PoolCase): number[] {
    return tf.backend_util.computePool2DInfo(c.x, c.filterSize, c.strides, 1, c.pad).outShape;
  }

  it.each(poolCases)("MaxPoolGrad matches the CPU original: $label", async (c) => {
    // Ties (equal values in a window) must send the gradient to the first maximum only, as TF does.
    const xValues = seededValues(size(c.x), 9).map((v) => Math.round(v * 4) / 4);
    const x = tf.tensor4d(xValues, c.x);
    const output = await tf.maxPool(x, c.filterSize, c.strides, c.pad).data();
    x.dispose();
    const dyShape = poolOutShape(c);
    const inputs = { dy: { shape: dyShape, values: seededValues(size(dyShape), 10) }, input: { shape: c.x, values: xValues }, output: { shape: dyShape, values: output as Float32Array } };
    const attrs = { filterSize: c.filterSize, strides: c.strides, pad: c.pad, dimRoundingMode: undefined };
    const ours = await runOurs("wasm", "MaxPoolGrad", inputs, attrs);
    expectClose(ours.values, await runOriginalCpu("MaxPoolGrad", inputs, attrs), c.label);
  });

  it.each(poolCases)("AvgPoolGrad is the exact adjoint of the backend's AvgPool: $label", async (c) => {
    // <avgPool(x), dy> must equal <x, avgPoolGrad(dy)> for every x and dy.
    await tf.setBackend("wasm");
    const dyShape = poolOutShape(c);
    const xValues = seededValues(size(c.x), 11);
    const dyValues = seededValues(size(dyShape), 12);
    const pooled = tf.tidy(() => tf.avgPool(tf.tensor4d(xValues, c.x), c.filterSize, c.strides, c.pad).dataSync());
    const dx = (await runOurs("wasm", "AvgPoolGrad", { dy: { shape: dyShape, values: dyValues }, input: { shape: c.x, values: xValues } }, { filterSize: c.filterSize, strides: c.strides, pad: c.pad })).values;
    const dot = (a: ArrayLike<number>, b: ArrayLike<number>) => Array.from(a).reduce((sum, v, i) => sum + v * b[i], 0);
    expect(dot(dx, xValues)).toBeCloseTo(dot(pooled, dyValues), 4);
  });

  it("AvgPoolGrad matches the CPU original where every window lies inside the image", async () => {
    const xShape = [2, 6, 8, 3];
    const dyShape = [2, 3, 4, 3];
    const inputs = { dy: { shape: dyShape, values: seededValues(size(dyShape), 13) }, input: { shape: xShape, values: seededValues(size(xShape), 14) } };
    const attrs = { filterSize: [2, 2], strides: [2, 2], pad: "valid", dimRoundingMode: undefined };
    expectClose((await runOurs("wasm", "AvgPoolGrad", inputs, attrs)).values, await runOriginalCpu("AvgPoolGrad", inputs, attrs), "avg 2x2");
  });
});

describe("Identity on wasm", () => {
  it("shares the values: a clone outlives its source and the source its clone", async () => {
    await tf.setBackend("wasm");
    const before = tf.memory().numBytes;
    const source = tf.tensor([1, 2, 3]);
    const clone = tf.clone(source);
    clone.dispose();
    expect(Array.from(source.dataSync())).toEqual([1, 2, 3]);
    const second = tf.clone(source);
    source.dispose();
    expect(Array.from(second.dataSync())).toEqual([1, 2, 3]);
    second.dispose();
    expect(tf.memory().numBytes).toBe(before);
  });
});

describe("Tile on wasm", () => {
  it.each([
    { shape: [1, 1, 1, 5], reps: [2, 3, 4, 1] },
    { shape: [1, 3, 4], reps: [7, 1, 1] },
    { shape: [2, 3], reps: [1, 1] },
    { shape: [2, 1, 3], reps: [2, 3, 1] },
    { shape: [3, 2], reps: [1, 4] },
  ])("matches the CPU original for shape $shape, reps $reps", async ({ shape, reps }) => {
    const inputs = { x: { shape, values: seededValues(size(shape), 18) } };
    const ours = await runOurs("wasm", "Tile", inputs, { reps });
    expect(ours.shape).toEqual(shape.map((d, i) => d * reps[i]));
    expectClose(ours.values, await runOriginalCpu("Tile", inputs, { reps }), `tile ${shape} ${reps}`);
  });
});

describe("Sum on wasm", () => {
  it.each([
    { shape: [4, 5, 6, 7], axis: [0, 1, 2], keepDims: false },
    { shape: [4, 5, 6, 7], axis: [2, 0, 1], keepDims: true },
    { shape: [9, 3], axis: [0], keepDims: false },
    { shape: [4, 5, 6], axis: [-1], keepDims: false },
    { shape: [4, 5, 6], axis: [0, 2], keepDims: false },
  ])("matches the CPU original for shape $shape over axes $axis", async ({ shape, axis, keepDims }) => {
    const inputs = { x: { shape, values: seededValues(size(shape), 15) } };
    const ours = await runOurs("wasm", "Sum", inputs, { axis, keepDims });
    const reference = tf.tidy(() => tf.sum(tf.tensor(inputs.x.values, shape), axis, keepDims));
    expect(ours.shape).toEqual(reference.shape);
    expectClose(ours.values, await runOriginalCpu("Sum", inputs, { axis, keepDims }), `sum ${shape} ${axis}`);
    reference.dispose();
  });
});

describe("channel slicing on wasm", () => {
  it.each([
    { shape: [2, 5, 3, 7], begin: [0, 0, 0, 2], size: [2, 5, 3, 4] },
    { shape: [2, 5, 3, 7], begin: [0, 0, 0, 0], size: [-1, -1, -1, 3] },
    { shape: [6, 5], begin: [0, 4], size: [6, 1] },
    { shape: [2, 5, 3, 7], begin: [1, 0, 0, 2], size: [1, 5, 3, 4] },
    { shape: [4, 6, 5], begin: [0, 1, 0], size: [4, 3, 5] },
  ])("Slice matches the CPU original for shape $shape from $begin, size $size", async ({ shape, begin, size: extent }) => {
    const inputs = { x: { shape, values: seededValues(size(shape), 19) } };
    const ours = await runOurs("wasm", "Slice", inputs, { begin, size: extent });
    await tf.setBackend("cpu");
    const expected = tf.tidy(() => tf.slice(tf.tensor(inputs.x.values, shape), begin, extent));
    expect(ours.shape).toEqual(expected.shape);
    expectClose(ours.values, expected.dataSync() as Float32Array, `slice ${shape} ${begin} ${extent}`);
    expected.dispose();
  });

  it.each([
    { shape: [2, 4, 3, 9], sizes: [2, 3, 4], axis: -1 },
    { shape: [2, 4, 3, 9], sizes: [4, -1], axis: 3 },
    { shape: [2, 4, 3, 9], sizes: [1, 3], axis: 1 },
  ])("SplitV matches the CPU backend for shape $shape into $sizes along axis $axis", async ({ shape, sizes, axis }) => {
    const values = seededValues(size(shape), 20);
    const split = async (backendName: "wasm" | "cpu") => {
      await tf.setBackend(backendName);
      const parts = tf.tidy(() => tf.split(tf.tensor(values, shape), sizes, axis));
      const result = parts.map((part) => ({ shape: part.shape, values: part.dataSync() as Float32Array }));
      tf.dispose(parts);
      return result;
    };
    const ours = await split("wasm");
    const expected = await split("cpu");
    expect(ours.map((part) => part.shape)).toEqual(expected.map((part) => part.shape));
    ours.forEach((part, i) => expectClose(part.values, expected[i].values, `split part ${i}`));
  });
});

describe("spatial padding and cropping on wasm", () => {
  it.each([
    { shape: [2, 4, 5, 3], paddings: [[0, 0], [1, 1], [1, 1], [0, 0]], value: 0 },
    { shape: [1, 3, 4, 2], paddings: [[0, 0], [0, 2], [3, 1], [0, 0]], value: -Infinity },
    { shape: [2, 3, 3, 2], paddings: [[1, 0], [1, 1], [0, 0], [0, 1]], value: 0.5 },
    { shape: [1, 2, 1, 3, 1, 2], paddings: [[0, 0], [0, 0], [0, 1], [0, 0], [0, 1], [0, 0]], value: 0 },
  ])("PadV2 is the CPU backend's for shape $shape, paddings $paddings, value $value", async ({ shape, paddings, value }) => {
    const values = seededValues(size(shape), 21);
    const pad = async (backendName: "wasm" | "cpu") => {
      await tf.setBackend(backendName);
      const padded = tf.tidy(() => tf.pad(tf.tensor(values, shape), paddings as [number, number][], value));
      const result = { shape: padded.shape, values: Array.from(padded.dataSync()) };
      padded.dispose();
      return result;
    };
    expect(await pad("wasm")).toEqual(await pad("cpu"));
  });

  it.each([
    { shape: [2, 6, 5, 3], begin: [0, 1, 1, 0], size: [2, 4, 3, 3] },
    { shape: [3, 5, 4, 2], begin: [1, 0, 2, 0], size: [2, 5, 2, -1] },
    { shape: [1, 4, 4, 1], begin: [0, 3, 0, 0], size: [1, 1, 4, 1] },
  ])("Slice is the CPU backend's for shape $shape from $begin, size $size", async ({ shape, begin, size: extent }) => {
    const values = seededValues(size(shape), 22);
    const slice = async (backendName: "wasm" | "cpu") => {
      await tf.setBackend(backendName);
      const part = tf.tidy(() => tf.slice(tf.tensor(values, shape), begin, extent));
      const result = { shape: part.shape, values: Array.from(part.dataSync()) };
      part.dispose();
      return result;
    };
    expect(await slice("wasm")).toEqual(await slice("cpu"));
  });
});
