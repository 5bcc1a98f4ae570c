// Fixtures of the inference tests: the committed third-party ONNX files, images, and a bare ONNX Runtime run
// to compare the predict path with.

import path from "node:path";
import * as ort from "onnxruntime-node";
import sharp from "sharp";
import type { RgbImage } from "@/server/ml/data/image";

/** A file of server/inference/fixtures (made once with PyTorch by make_fixtures.py). */
export function inferenceFixture(name: string): string {
  return path.resolve(import.meta.dirname, "fixtures", name);
}

/** A PNG of `width`×`height` with a colour gradient and a few solid blocks, so models see structure. */
export async function testImage(width: number, height: number, seed = 1): Promise<Buffer> {
  const data = Buffer.alloc(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = (y * width + x) * 3;
      const block = ((Math.floor(x / 16) + Math.floor(y / 16) + seed) % 3) as 0 | 1 | 2;
      data[i] = block === 0 ? 230 : (x * 255) / width;
      data[i + 1] = block === 1 ? 220 : (y * 255) / height;
      data[i + 2] = block === 2 ? 240 : 60;
    }
  }
  return sharp(data, { raw: { width, height, channels: 3 } }).png().toBuffer();
}

export async function rawPixels(png: Buffer): Promise<RgbImage> {
  const { data, info } = await sharp(png).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  return { data: new Uint8Array(data), width: info.width, height: info.height };
}

/** HWC bytes to NCHW floats, each value mapped by `f`. */
export function toNchw(img: RgbImage, f: (value: number, channel: number) => number = (v) => v / 255): Float32Array {
  const plane = img.width * img.height;
  const out = new Float32Array(3 * plane);
  for (let i = 0; i < plane; i++) for (let c = 0; c < 3; c++) out[c * plane + i] = f(img.data[3 * i + c], c);
  return out;
}

/** One run of a fresh ONNX Runtime session: the reference the predict path must agree with. */
export async function bareRun(file: string, input: Float32Array, dims: number[]): Promise<{ data: Float32Array; dims: readonly number[] }> {
  const session = await ort.InferenceSession.create(file);
  try {
    const out = await session.run({ [session.inputNames[0]]: new ort.Tensor("float32", input, dims) });
    const tensor = out[session.outputNames[0]];
    return { data: tensor.data as Float32Array, dims: tensor.dims };
  } finally {
    await session.release();
  }
}
