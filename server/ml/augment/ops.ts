/**
 * The augmentation op library: a zod schema per op (the JSON users save) and a pure implementation on
 * 8-bit RGB images plus optional normalised boxes. Each op runs with probability `p`, then samples its
 * parameters from the given rng, so a seeded rng makes the whole pipeline reproducible.
 */
import { z } from "zod";
import type { RgbImage } from "../data/image";
import type { Rng } from "./rng";
import { composeAffine, transformBoxes, warpAffine, type Affine, type Box } from "./geometry";

const probability = (fallback: number) =>
  z
    .number({ error: "must be a number" })
    .min(0, "must be ≥ 0")
    .max(1, "must be ≤ 1")
    .default(fallback)
    .describe("probability of applying the op");

const nonNegative = (fallback: number, max: number, description: string) =>
  z
    .number({ error: "must be a number" })
    .min(0, "must be ≥ 0")
    .max(max, `must be ≤ ${max}`)
    .default(fallback)
    .describe(description);

/** [low, high] with low ≤ high inside [min, max]; sampled uniformly. */
const range = (fallback: [number, number], min: number, max: number, description: string) =>
  z
    .tuple([
      z.number({ error: "must be a number" }).min(min, `must be ≥ ${min}`).max(max, `must be ≤ ${max}`),
      z.number({ error: "must be a number" }).min(min, `must be ≥ ${min}`).max(max, `must be ≤ ${max}`),
    ], { error: "must be a [low, high] pair of numbers" })
    .refine(([low, high]) => low <= high, "low must be ≤ high")
    .default(fallback)
    .describe(description);

const fill = z
  .number({ error: "must be a number" })
  .int("must be an integer")
  .min(0, "must be ≥ 0")
  .max(255, "must be ≤ 255")
  .default(114)
  .describe("grey level (0-255) for pixels uncovered by the transform");

export const augmentOpSchemas = {
  hflip: z.strictObject({ op: z.literal("hflip"), p: probability(0.5) }).describe("mirror left-right"),
  vflip: z.strictObject({ op: z.literal("vflip"), p: probability(0.5) }).describe("mirror top-bottom"),
  rot90: z.strictObject({ op: z.literal("rot90"), p: probability(0.5) }).describe("rotate by 90, 180 or 270 degrees (chosen at random)"),
  rotate: z
    .strictObject({ op: z.literal("rotate"), p: probability(0.5), degrees: nonNegative(15, 180, "angle drawn from [-degrees, degrees], counter-clockwise positive"), fill })
    .describe("rotate about the centre by a random angle"),
  random_resized_crop: z
    .strictObject({
      op: z.literal("random_resized_crop"),
      p: probability(1),
      scale: range([0.08, 1], 0.01, 1, "share of the image area kept by the crop"),
      ratio: range([3 / 4, 4 / 3], 0.1, 10, "aspect ratio (width/height) of the crop"),
    })
    .describe("crop a random region and resize it back to the image size"),
  scale: z
    .strictObject({ op: z.literal("scale"), p: probability(0.5), range: range([0.5, 1.5], 0.05, 10, "zoom factor"), fill })
    .describe("zoom in or out about the centre"),
  translate: z
    .strictObject({ op: z.literal("translate"), p: probability(0.5), fraction: nonNegative(0.1, 1, "largest shift as a fraction of width/height"), fill })
    .describe("shift by a random offset"),
  brightness: z
    .strictObject({ op: z.literal("brightness"), p: probability(0.5), amount: nonNegative(0.2, 1, "pixel values scaled by a factor in [1-amount, 1+amount]") })
    .describe("make brighter or darker"),
  contrast: z
    .strictObject({ op: z.literal("contrast"), p: probability(0.5), amount: nonNegative(0.2, 1, "distance from the mean grey scaled by a factor in [1-amount, 1+amount]") })
    .describe("raise or lower contrast"),
  saturation: z
    .strictObject({ op: z.literal("saturation"), p: probability(0.5), amount: nonNegative(0.3, 1, "colourfulness scaled by a factor in [1-amount, 1+amount]") })
    .describe("make colours more or less vivid"),
  hue: z
    .strictObject({ op: z.literal("hue"), p: probability(0.5), amount: nonNegative(0.015, 0.5, "hue shifted by up to this fraction of the colour wheel") })
    .describe("shift hues around the colour wheel"),
  grayscale: z.strictObject({ op: z.literal("grayscale"), p: probability(0.1) }).describe("convert to grey (kept as 3 channels)"),
  blur: z
    .strictObject({ op: z.literal("blur"), p: probability(0.5), radius: range([0.1, 2], 0, 20, "Gaussian sigma in pixels") })
    .describe("Gaussian blur"),
  noise: z
    .strictObject({ op: z.literal("noise"), p: probability(0.5), std: nonNegative(0.03, 1, "standard deviation as a fraction of the full 0-255 range") })
    .describe("add Gaussian noise to every pixel"),
  cutout: z
    .strictObject({
      op: z.literal("cutout"),
      p: probability(0.5),
      holes: z.number({ error: "must be a number" }).int("must be an integer").min(1, "must be ≥ 1").max(32, "must be ≤ 32").default(1).describe("number of squares"),
      size: range([0.1, 0.3], 0.01, 1, "square side as a fraction of the shorter image side"),
      fill,
    })
    .describe("paint random squares grey"),
};

export type AugmentOpName = keyof typeof augmentOpSchemas;
export const augmentOpNames = Object.keys(augmentOpSchemas) as AugmentOpName[];

export const augmentOpSchema = z.discriminatedUnion("op", [
  augmentOpSchemas.hflip,
  augmentOpSchemas.vflip,
  augmentOpSchemas.rot90,
  augmentOpSchemas.rotate,
  augmentOpSchemas.random_resized_crop,
  augmentOpSchemas.scale,
  augmentOpSchemas.translate,
  augmentOpSchemas.brightness,
  augmentOpSchemas.contrast,
  augmentOpSchemas.saturation,
  augmentOpSchemas.hue,
  augmentOpSchemas.grayscale,
  augmentOpSchemas.blur,
  augmentOpSchemas.noise,
  augmentOpSchemas.cutout,
], { error: (issue) => (issue.code === "invalid_union" ? `unknown op; expected one of ${Object.keys(augmentOpSchemas).join(", ")}` : undefined) });
/** A parsed op: every parameter present (defaults filled in). */
export type AugmentOp = z.output<typeof augmentOpSchema>;
/** An op as a user writes it: `p` and parameters optional. */
export type AugmentOpInput = z.input<typeof augmentOpSchema>;

export interface Augmented { img: RgbImage; boxes: Box[] }

function flipHorizontal(img: RgbImage): RgbImage {
  const { width: W, height: H, data } = img;
  const out = new Uint8Array(data.length);
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      const s = (y * W + x) * 3;
      const d = (y * W + (W - 1 - x)) * 3;
      out[d] = data[s];
      out[d + 1] = data[s + 1];
      out[d + 2] = data[s + 2];
    }
  }
  return { data: out, width: W, height: H };
}

function flipVertical(img: RgbImage): RgbImage {
  const { width: W, height: H, data } = img;
  const out = new Uint8Array(data.length);
  const row = W * 3;
  for (let y = 0; y < H; y++) out.set(data.subarray(y * row, (y + 1) * row), (H - 1 - y) * row);
  return { data: out, width: W, height: H };
}

/** k quarter-turns counter-clockwise (like numpy.rot90); width and height swap for odd k. */
export function rotate90(img: RgbImage, boxes: Box[], k: 1 | 2 | 3): Augmented {
  const { width: W, height: H, data } = img;
  const outW = k === 2 ? W : H;
  const outH = k === 2 ? H : W;
  const out = new Uint8Array(data.length);
  for (let r = 0; r < outH; r++) {
    for (let c = 0; c < outW; c++) {
      const [sr, sc] = k === 1 ? [c, W - 1 - r] : k === 2 ? [H - 1 - r, W - 1 - c] : [H - 1 - c, r];
      const s = (sr * W + sc) * 3;
      const d = (r * outW + c) * 3;
      out[d] = data[s];
      out[d + 1] = data[s + 1];
      out[d + 2] = data[s + 2];
    }
  }
  const moved = boxes.map((b) =>
    k === 1 ? { cls: b.cls, x: b.y, y: 1 - b.x, w: b.h, h: b.w }
    : k === 2 ? { cls: b.cls, x: 1 - b.x, y: 1 - b.y, w: b.w, h: b.h }
    : { cls: b.cls, x: 1 - b.y, y: b.x, w: b.h, h: b.w },
  );
  return { img: { data: out, width: outW, height: outH }, boxes: moved };
}

function aboutCentre(W: number, H: number, linear: [number, number, number, number]): Affine {
  const [a, b, d, e] = linear;
  const toOrigin: Affine = [1, 0, -W / 2, 0, 1, -H / 2];
  const back: Affine = [1, 0, W / 2, 0, 1, H / 2];
  return composeAffine(back, composeAffine([a, b, 0, d, e, 0], toOrigin));
}

function warp(input: Augmented, m: Affine, fillValue: number): Augmented {
  const { width: W, height: H } = input.img;
  return { img: warpAffine(input.img, m, W, H, fillValue), boxes: transformBoxes(input.boxes, m, W, H, W, H) };
}

/** torchvision's RandomResizedCrop region: 10 tries at a random area/aspect, then a centre crop. */
function sampleCrop(W: number, H: number, scale: [number, number], ratio: [number, number], rng: Rng) {
  const area = W * H;
  const logRatio = [Math.log(ratio[0]), Math.log(ratio[1])];
  for (let attempt = 0; attempt < 10; attempt++) {
    const target = area * rng.uniform(scale[0], scale[1]);
    const aspect = Math.exp(rng.uniform(logRatio[0], logRatio[1]));
    const w = Math.sqrt(target * aspect);
    const h = Math.sqrt(target / aspect);
    if (w <= W && h <= H && w >= 1 && h >= 1) return { x: rng.uniform(0, W - w), y: rng.uniform(0, H - h), w, h };
  }
  const imageRatio = W / H;
  const w = imageRatio < ratio[0] ? W : imageRatio > ratio[1] ? H * ratio[1] : W;
  const h = imageRatio < ratio[0] ? W / ratio[0] : imageRatio > ratio[1] ? H : H;
  return { x: (W - w) / 2, y: (H - h) / 2, w, h };
}

function mapPixels(img: RgbImage, fn: (out: Uint8ClampedArray, src: Uint8Array) => void): RgbImage {
  const out = new Uint8ClampedArray(img.data.length); // clamps and rounds on write
  fn(out, img.data);
  return { data: new Uint8Array(out.buffer), width: img.width, height: img.height };
}

function luma(r: number, g: number, b: number): number {
  return 0.299 * r + 0.587 * g + 0.114 * b;
}

function shiftHue(img: RgbImage, shift: number): RgbImage {
  return mapPixels(img, (out, src) => {
    for (let i = 0; i < src.length; i += 3) {
      const r = src[i] / 255, g = src[i + 1] / 255, b = src[i + 2] / 255;
      const max = Math.max(r, g, b);
      const min = Math.min(r, g, b);
      const delta = max - min;
      if (delta === 0) {
        out[i] = src[i]; out[i + 1] = src[i + 1]; out[i + 2] = src[i + 2];
        continue;
      }
      let h = max === r ? ((g - b) / delta) % 6 : max === g ? (b - r) / delta + 2 : (r - g) / delta + 4;
      h = (((h / 6 + shift) % 1) + 1) % 1;
      const s = delta / max;
      const v = max;
      const sector = h * 6;
      const f = sector - Math.floor(sector);
      const p = v * (1 - s), q = v * (1 - s * f), t = v * (1 - s * (1 - f));
      let R: number, G: number, B: number;
      switch (Math.floor(sector) % 6) {
        case 0: R = v; G = t; B = p; break;
        case 1: R = q; G = v; B = p; break;
        case 2: R = p; G = v; B = t; break;
        case 3: R = p; G = q; B = v; break;
        case 4: R = t; G = p; B = v; break;
        default: R = v; G = p; B = q;
      }
      out[i] = R * 255; out[i + 1] = G * 255; out[i + 2] = B * 255;
    }
  });
}

function gaussianBlur(img: RgbImage, sigma: number): RgbImage {
  if (sigma < 0.05) return img;
  const radius = Math.max(1, Math.ceil(3 * sigma));
  const kernel = new Float32Array(2 * radius + 1);
  let sum = 0;
  for (let i = -radius; i <= radius; i++) sum += kernel[i + radius] = Math.exp(-(i * i) / (2 * sigma * sigma));
  for (let i = 0; i < kernel.length; i++) kernel[i] /= sum;
  const { width: W, height: H, data } = img;
  const pass = (src: ArrayLike<number>, horizontal: boolean): Float32Array => {
    const out = new Float32Array(src.length);
    for (let y = 0; y < H; y++) {
      for (let x = 0; x < W; x++) {
        let r = 0, g = 0, b = 0;
        for (let k = -radius; k <= radius; k++) {
          const sx = horizontal ? Math.min(W - 1, Math.max(0, x + k)) : x;
          const sy = horizontal ? y : Math.min(H - 1, Math.max(0, y + k));
          const s = (sy * W + sx) * 3;
          const w = kernel[k + radius];
          r += w * src[s]; g += w * src[s + 1]; b += w * src[s + 2];
        }
        const o = (y * W + x) * 3;
        out[o] = r; out[o + 1] = g; out[o + 2] = b;
      }
    }
    return out;
  };
  const blurred = pass(pass(data, true), false);
  return mapPixels(img, (out) => out.set(blurred));
}

function cutout(img: RgbImage, holes: number, size: [number, number], fillValue: number, rng: Rng): RgbImage {
  const { width: W, height: H } = img;
  const data = img.data.slice();
  for (let n = 0; n < holes; n++) {
    const side = Math.max(1, Math.round(rng.uniform(size[0], size[1]) * Math.min(W, H)));
    const cx = rng.uniform(0, W);
    const cy = rng.uniform(0, H);
    const x0 = Math.max(0, Math.round(cx - side / 2)), x1 = Math.min(W, Math.round(cx + side / 2));
    const y0 = Math.max(0, Math.round(cy - side / 2)), y1 = Math.min(H, Math.round(cy + side / 2));
    for (let y = y0; y < y1; y++) data.fill(fillValue, (y * W + x0) * 3, (y * W + x1) * 3);
  }
  return { data, width: W, height: H };
}

/** Runs one parsed op (always — the caller has already drawn against `p`). */
export function runOp(op: AugmentOp, input: Augmented, rng: Rng): Augmented {
  const { img, boxes } = input;
  const { width: W, height: H } = img;
  switch (op.op) {
    case "hflip":
      return { img: flipHorizontal(img), boxes: boxes.map((b) => ({ ...b, x: 1 - b.x })) };
    case "vflip":
      return { img: flipVertical(img), boxes: boxes.map((b) => ({ ...b, y: 1 - b.y })) };
    case "rot90":
      return rotate90(img, boxes, (1 + rng.int(3)) as 1 | 2 | 3);
    case "rotate": {
      const angle = (rng.uniform(-op.degrees, op.degrees) * Math.PI) / 180;
      const cos = Math.cos(angle), sin = Math.sin(angle);
      // y points down, so this matrix turns the picture counter-clockwise for positive angles.
      return warp(input, aboutCentre(W, H, [cos, sin, -sin, cos]), op.fill);
    }
    case "random_resized_crop": {
      const crop = sampleCrop(W, H, op.scale, op.ratio, rng);
      const sx = W / crop.w, sy = H / crop.h;
      return warp(input, [sx, 0, -crop.x * sx, 0, sy, -crop.y * sy], 0);
    }
    case "scale": {
      const factor = rng.uniform(op.range[0], op.range[1]);
      return warp(input, aboutCentre(W, H, [factor, 0, 0, factor]), op.fill);
    }
    case "translate": {
      const tx = rng.uniform(-op.fraction, op.fraction) * W;
      const ty = rng.uniform(-op.fraction, op.fraction) * H;
      return warp(input, [1, 0, tx, 0, 1, ty], op.fill);
    }
    case "brightness": {
      const factor = rng.uniform(1 - op.amount, 1 + op.amount);
      return { img: mapPixels(img, (out, src) => { for (let i = 0; i < src.length; i++) out[i] = src[i] * factor; }), boxes };
    }
    case "contrast": {
      const factor = rng.uniform(1 - op.amount, 1 + op.amount);
      let total = 0;
      for (let i = 0; i < img.data.length; i += 3) total += luma(img.data[i], img.data[i + 1], img.data[i + 2]);
      const mean = total / (W * H);
      return { img: mapPixels(img, (out, src) => { for (let i = 0; i < src.length; i++) out[i] = (src[i] - mean) * factor + mean; }), boxes };
    }
    case "saturation": {
      const factor = rng.uniform(1 - op.amount, 1 + op.amount);
      return {
        img: mapPixels(img, (out, src) => {
          for (let i = 0; i < src.length; i += 3) {
            const grey = luma(src[i], src[i + 1], src[i + 2]);
            for (let c = 0; c < 3; c++) out[i + c] = grey + (src[i + c] - grey) * factor;
          }
        }),
        boxes,
      };
    }
    case "hue":
      return { img: shiftHue(img, rng.uniform(-op.amount, op.amount)), boxes };
    case "grayscale":
      return {
        img: mapPixels(img, (out, src) => {
          for (let i = 0; i < src.length; i += 3) out[i] = out[i + 1] = out[i + 2] = luma(src[i], src[i + 1], src[i + 2]);
        }),
        boxes,
      };
    case "blur":
      return { img: gaussianBlur(img, rng.uniform(op.radius[0], op.radius[1])), boxes };
    case "noise": {
      const std = op.std * 255;
      return { img: mapPixels(img, (out, src) => { for (let i = 0; i < src.length; i++) out[i] = src[i] + rng.normal() * std; }), boxes };
    }
    case "cutout":
      return { img: cutout(img, op.holes, op.size, op.fill, rng), boxes };
  }
}
