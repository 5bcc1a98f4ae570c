// Helpers for kernels written as a composition of other kernels of the same backend.
// They work on TensorInfos (dataId + shape) and call kernelFuncs straight from the registry,
// bypassing the engine: no tape, no tensor tracking, so every intermediate must be released
// with `release` (backends count references per dataId; Reshape only adds a reference).
import * as tf from "@tensorflow/tfjs";

export type TensorInfo = tf.TensorInfo;
type Attrs = tf.NamedAttrMap;

export class MissingKernelError extends Error {
  constructor(kernelName: string, backendName: string) {
    super(`kernel "${kernelName}" is not registered for backend "${backendName}"`);
    this.name = "MissingKernelError";
  }
}

export class Composer {
  constructor(
    readonly backend: tf.KernelBackend,
    readonly backendName: string,
  ) {}

  run(kernelName: string, inputs: Record<string, TensorInfo>, attrs: Record<string, unknown> = {}): TensorInfo {
    const kernel = tf.getKernel(kernelName, this.backendName);
    if (!kernel) throw new MissingKernelError(kernelName, this.backendName);
    return kernel.kernelFunc({ inputs, backend: this.backend, attrs: attrs as Attrs }) as TensorInfo;
  }

  release(...infos: TensorInfo[]): void {
    for (const info of infos) this.backend.disposeData(info.dataId);
  }

  reshape(x: TensorInfo, shape: number[]): TensorInfo {
    return this.run("Reshape", { x }, { shape });
  }

  transpose(x: TensorInfo, perm: number[]): TensorInfo {
    return this.run("Transpose", { x }, { perm });
  }

  slice(x: TensorInfo, begin: number[], size: number[]): TensorInfo {
    return this.run("Slice", { x }, { begin, size });
  }

  pad(x: TensorInfo, paddings: [number, number][], constantValue = 0): TensorInfo {
    return this.run("PadV2", { x }, { paddings, constantValue });
  }

  add(a: TensorInfo, b: TensorInfo): TensorInfo {
    return this.run("Add", { a, b });
  }

  matMul(a: TensorInfo, b: TensorInfo, transposeA: boolean, transposeB: boolean): TensorInfo {
    return this.run("BatchMatMul", { a, b }, { transposeA, transposeB });
  }

  /** Forward NHWC conv2d with explicit padding [[top, bottom], [left, right]]. */
  conv2d(
    x: TensorInfo,
    filter: TensorInfo,
    strides: [number, number],
    dilations: [number, number],
    padding: [[number, number], [number, number]],
  ): TensorInfo {
    return this.run(
      "Conv2D",
      { x, filter },
      {
        strides,
        dilations,
        pad: [[0, 0], padding[0], padding[1], [0, 0]],
        dataFormat: "NHWC",
        dimRoundingMode: undefined,
      },
    );
  }

  /** Applies `fn` and releases every listed intermediate afterwards, even when `fn` throws. */
  scoped<T>(fn: (temp: (info: TensorInfo) => TensorInfo) => T): T {
    const temporaries: TensorInfo[] = [];
    try {
      return fn((info) => {
        temporaries.push(info);
        return info;
      });
    } finally {
      this.release(...temporaries);
    }
  }
}
