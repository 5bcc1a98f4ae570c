import { readFile } from "node:fs/promises";
import sharp, { type Sharp } from "sharp";
import { decodeBmp, isBmp, readBmpSize } from "./bmp";

/** 8-bit RGB pixels, row-major HWC with 3 channels. */
export interface RgbImage { data: Uint8Array; width: number; height: number }

/** Default pixel limit: about 8K x 8K. Larger inputs are almost always mistakes or decompression bombs. */
export const DEFAULT_MAX_PIXELS = 8192 * 8192;

export class ImageDecodeError extends Error {
  constructor(public readonly path: string, public readonly reason: string) {
    super(`cannot decode image ${path}: ${reason}`);
    this.name = "ImageDecodeError";
  }
}

export interface DecodeOptions {
  maxPixels?: number;
  /** The file's content when the caller has already read it (the path then only names it in errors). */
  bytes?: Uint8Array;
}

/** Turns libvips' wording into a short reason a user can act on. */
function explainSharpError(error: unknown, maxPixels: number): string {
  const message = error instanceof Error ? error.message : String(error);
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  if (code === "ENOENT" || /Input file is missing/i.test(message)) return "file not found";
  if (/exceeds pixel limit/i.test(message)) return `too many pixels (limit is ${maxPixels})`;
  if (/unsupported image format/i.test(message)) return "unsupported image format";
  if (/premature end|truncated|unexpected end|not enough data|out of data|read error|corrupt/i.test(message)) {
    return `truncated or corrupt image data (${message.split("\n")[0]})`;
  }
  return message.split("\n")[0];
}

/**
 * A sharp pipeline for one file: honours EXIF orientation, drops alpha and ends in 8-bit sRGB, so `.raw()`
 * always yields 3 interleaved channels (greyscale, palette, CMYK and 16-bit inputs included).
 * BMP is decoded by our own reader because sharp's prebuilt libvips has no BMP loader.
 */
async function openImage(path: string, maxPixels: number, fileBytes?: Uint8Array): Promise<Sharp> {
  const bytes = fileBytes ?? (await readFile(path).catch((error: NodeJS.ErrnoException) => {
    throw new ImageDecodeError(path, error.code === "ENOENT" ? "file not found" : error.message);
  }));
  if (isBmp(bytes)) {
    let bmp;
    try {
      const { width, height } = readBmpSize(bytes);
      if (width * height > maxPixels) throw new Error(`too many pixels (limit is ${maxPixels})`);
      bmp = decodeBmp(bytes);
    } catch (error) {
      throw new ImageDecodeError(path, (error as Error).message);
    }
    return sharp(bmp.data, { raw: { width: bmp.width, height: bmp.height, channels: 3 } });
  }
  return sharp(bytes, { limitInputPixels: maxPixels, failOn: "error" })
    .rotate()
    .removeAlpha()
    .toColourspace("srgb");
}

async function toRgb(path: string, pipeline: Sharp, maxPixels: number): Promise<RgbImage> {
  try {
    const { data, info } = await pipeline.raw({ depth: "uchar" }).toBuffer({ resolveWithObject: true });
    if (info.channels !== 3) throw new Error(`expected 3 channels after conversion, got ${info.channels}`);
    return { data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength), width: info.width, height: info.height };
  } catch (error) {
    throw new ImageDecodeError(path, explainSharpError(error, maxPixels));
  }
}

/** Decodes a whole image file to RGB. Throws ImageDecodeError naming the file and the reason. */
export async function decodeImage(path: string, opts: DecodeOptions = {}): Promise<RgbImage> {
  const maxPixels = opts.maxPixels ?? DEFAULT_MAX_PIXELS;
  return toRgb(path, await openImage(path, maxPixels, opts.bytes), maxPixels);
}

/**
 * Decodes and resizes in one libvips pipeline (JPEG shrink-on-load makes this much faster than decode then
 * resize). `fit: "fill"` stretches to exactly width x height, which is what classification loaders want.
 */
export async function decodeImageResized(path: string, width: number, height: number, opts: DecodeOptions = {}): Promise<RgbImage> {
  const maxPixels = opts.maxPixels ?? DEFAULT_MAX_PIXELS;
  const pipeline = (await openImage(path, maxPixels, opts.bytes)).resize(width, height, { fit: "fill", kernel: "linear" });
  return toRgb(path, pipeline, maxPixels);
}

/** Reads width and height from the file header only (upright size, after EXIF orientation). */
export async function readImageSize(path: string, opts: DecodeOptions = {}): Promise<{ width: number; height: number }> {
  const maxPixels = opts.maxPixels ?? DEFAULT_MAX_PIXELS;
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (error) {
    throw new ImageDecodeError(path, explainSharpError(error, maxPixels));
  }
  let size: { width: number; height: number };
  try {
    if (isBmp(bytes)) {
      size = readBmpSize(bytes);
    } else {
      const meta = await sharp(bytes).metadata();
      if (!meta.width || !meta.height) throw new Error("image has no dimensions");
      size = meta.autoOrient ?? { width: meta.width, height: meta.height };
    }
  } catch (error) {
    throw new ImageDecodeError(path, explainSharpError(error, maxPixels));
  }
  if (size.width * size.height > maxPixels) throw new ImageDecodeError(path, `too many pixels (limit is ${maxPixels})`);
  return size;
}

function fromRgb(img: RgbImage): Sharp {
  return sharp(img.data, { raw: { width: img.width, height: img.height, channels: 3 } });
}

async function rawOf(pipeline: Sharp): Promise<RgbImage> {
  const { data, info } = await pipeline.raw().toBuffer({ resolveWithObject: true });
  return { data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength), width: info.width, height: info.height };
}

/** Stretches an image to exactly w x h (bilinear). */
export async function resizeTo(img: RgbImage, w: number, h: number): Promise<RgbImage> {
  if (img.width === w && img.height === h) return { data: img.data.slice(), width: w, height: h };
  return rawOf(fromRgb(img).resize(w, h, { fit: "fill", kernel: "linear" }));
}

export interface Letterboxed { img: RgbImage; scale: number; padX: number; padY: number }

/**
 * Fits an image inside a size x size square keeping its aspect ratio, centred, padded with `padValue` grey
 * (114, as Ultralytics does). A point (x, y) in the source maps to (x * scale + padX, y * scale + padY).
 */
export async function letterbox(img: RgbImage, size: number, padValue = 114): Promise<Letterboxed> {
  const scale = Math.min(size / img.width, size / img.height);
  const w = Math.max(1, Math.round(img.width * scale));
  const h = Math.max(1, Math.round(img.height * scale));
  const padX = Math.floor((size - w) / 2);
  const padY = Math.floor((size - h) / 2);
  const resized = w === img.width && h === img.height ? img : await resizeTo(img, w, h);
  const out = new Uint8Array(size * size * 3).fill(padValue);
  for (let y = 0; y < h; y++) {
    out.set(resized.data.subarray(y * w * 3, (y + 1) * w * 3), ((y + padY) * size + padX) * 3);
  }
  return { img: { data: out, width: size, height: size }, scale, padX, padY };
}

export async function encodeJpeg(img: RgbImage, quality = 90): Promise<Buffer> {
  return fromRgb(img).jpeg({ quality }).toBuffer();
}

export async function encodePng(img: RgbImage): Promise<Buffer> {
  return fromRgb(img).png().toBuffer();
}
