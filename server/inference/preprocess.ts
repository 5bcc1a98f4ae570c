// Images to model input, as Ultralytics' predict prepares them: EXIF-upright RGB, letterboxed (aspect kept,
// centred, grey 114 padding) for detectors; classifiers stretched or centre-cropped and normalised as their
// weights entry says. Writes straight into the batch's NCHW float tensor.

import { decodeImage, DEFAULT_MAX_PIXELS, ImageDecodeError, resizeTo, type RgbImage } from "@/server/ml/data/image";
import type { ClassifierPreprocessing } from "@/db/schema";
import { Invalid, TooLarge } from "@/server/errors";

const LETTERBOX_PAD = 114;

export interface Letterbox {
  scale: number;
  padX: number;
  padY: number;
}

/** Decodes an uploaded image; a file that is not one is Invalid, one over the pixel cap TooLarge. */
export async function decodeUpload(bytes: Uint8Array, label: string, maxPixels = DEFAULT_MAX_PIXELS): Promise<RgbImage> {
  try {
    return await decodeImage(label, { bytes, maxPixels });
  } catch (error) {
    if (!(error instanceof ImageDecodeError)) throw error;
    if (/too many pixels/.test(error.reason)) throw new TooLarge(`${label}: the image has too many pixels (limit ${maxPixels})`, { image: ["too many pixels"] });
    throw new Invalid(`${label} is not an image the studio can read: ${error.reason}`, { image: [error.reason] });
  }
}

/** Where a w×h image lands inside an H×W input (Ultralytics' LetterBox with auto=False, center=True). */
export function letterboxGeometry(width: number, height: number, [inH, inW]: [number, number]): Letterbox & { w: number; h: number } {
  const scale = Math.min(inH / height, inW / width);
  const w = Math.max(1, Math.round(width * scale));
  const h = Math.max(1, Math.round(height * scale));
  return { scale, w, h, padX: Math.floor((inW - w) / 2), padY: Math.floor((inH - h) / 2) };
}

/** Letterboxes `img` into image `index` of an NCHW batch tensor of [inH, inW] inputs in [0, 1]. */
export async function writeLetterboxed(img: RgbImage, size: [number, number], tensor: Float32Array, index: number): Promise<Letterbox> {
  const [inH, inW] = size;
  const geometry = letterboxGeometry(img.width, img.height, size);
  const resized = geometry.w === img.width && geometry.h === img.height ? img : await resizeTo(img, geometry.w, geometry.h);
  const plane = inH * inW;
  const base = index * 3 * plane;
  tensor.fill(LETTERBOX_PAD / 255, base, base + 3 * plane);
  const src = resized.data;
  for (let y = 0; y < geometry.h; y++) {
    const row = (y + geometry.padY) * inW + geometry.padX;
    for (let x = 0; x < geometry.w; x++) {
      const s = (y * geometry.w + x) * 3;
      const d = base + row + x;
      tensor[d] = src[s] / 255;
      tensor[d + plane] = src[s + 1] / 255;
      tensor[d + 2 * plane] = src[s + 2] / 255;
    }
  }
  return { scale: geometry.scale, padX: geometry.padX, padY: geometry.padY };
}

export type ClassifierSettings = Required<ClassifierPreprocessing>;

/** The studio's own classifiers: RGB in [0, 1], stretched, probabilities. */
export const STUDIO_CLASSIFIER: ClassifierSettings = { channels: "RGB", mean: [0, 0, 0], std: [1, 1, 1], resize: "stretch", cropFraction: 1, output: "auto" };

/** Stretches or centre-crops `img` into image `index` of an NCHW batch tensor, normalised by `settings`. */
export async function writeClassifierInput(img: RgbImage, [inH, inW]: [number, number], settings: ClassifierSettings, tensor: Float32Array, index: number): Promise<void> {
  let source: RgbImage;
  if (settings.resize === "stretch") {
    source = await resizeTo(img, inW, inH);
  } else {
    // torchvision: Resize(short side to size / crop_fraction), then CenterCrop(size).
    const scale = Math.max(inH / settings.cropFraction / img.height, inW / settings.cropFraction / img.width);
    const w = Math.max(inW, Math.round(img.width * scale));
    const h = Math.max(inH, Math.round(img.height * scale));
    const resized = await resizeTo(img, w, h);
    const top = Math.round((h - inH) / 2);
    const left = Math.round((w - inW) / 2);
    const data = new Uint8Array(inH * inW * 3);
    for (let y = 0; y < inH; y++) data.set(resized.data.subarray(((y + top) * w + left) * 3, ((y + top) * w + left + inW) * 3), y * inW * 3);
    source = { data, width: inW, height: inH };
  }
  const plane = inH * inW;
  const base = index * 3 * plane;
  const order = settings.channels === "BGR" ? [2, 1, 0] : [0, 1, 2];
  for (let c = 0; c < 3; c++) {
    const from = order[c];
    const mean = settings.mean[c];
    const std = settings.std[c];
    for (let i = 0; i < plane; i++) tensor[base + c * plane + i] = (source.data[3 * i + from] / 255 - mean) / std;
  }
}
