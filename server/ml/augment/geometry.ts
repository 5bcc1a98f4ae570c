import type { RgbImage } from "../data/image";

/** Normalised box: centre x, centre y, width, height in [0, 1] of the image, plus its class id. */
export interface Box { cls: number; x: number; y: number; w: number; h: number }

/** x' = a*x + b*y + c, y' = d*x + e*y + f, in continuous pixel coordinates (pixel i spans [i, i+1)). */
export type Affine = [number, number, number, number, number, number];

export function invertAffine([a, b, c, d, e, f]: Affine): Affine {
  const det = a * e - b * d;
  if (Math.abs(det) < 1e-12) throw new Error("affine transform is not invertible");
  return [e / det, -b / det, (b * f - c * e) / det, -d / det, a / det, (c * d - a * f) / det];
}

/** Applies `m` after `first`. */
export function composeAffine(m: Affine, first: Affine): Affine {
  const [a, b, c, d, e, f] = m;
  const [A, B, C, D, E, F] = first;
  return [a * A + b * D, a * B + b * E, a * C + b * F + c, d * A + e * D, d * B + e * E, d * C + e * F + f];
}

/**
 * Resamples `img` through the forward transform `m` into a outW x outH image with bilinear interpolation.
 * Output pixels whose source falls outside the image get `fill`.
 */
export function warpAffine(img: RgbImage, m: Affine, outW: number, outH: number, fill: number): RgbImage {
  const [a, b, c, d, e, f] = invertAffine(m);
  const { width: W, height: H, data: src } = img;
  const out = new Uint8Array(outW * outH * 3);
  for (let oy = 0; oy < outH; oy++) {
    const v = oy + 0.5;
    for (let ox = 0; ox < outW; ox++) {
      const u = ox + 0.5;
      // Source position in pixel-index space (pixel centres at integers).
      const sx = a * u + b * v + c - 0.5;
      const sy = d * u + e * v + f - 0.5;
      const o = (oy * outW + ox) * 3;
      if (sx < -0.5 || sy < -0.5 || sx > W - 0.5 || sy > H - 0.5) {
        out[o] = fill;
        out[o + 1] = fill;
        out[o + 2] = fill;
        continue;
      }
      const cx = sx < 0 ? 0 : sx > W - 1 ? W - 1 : sx;
      const cy = sy < 0 ? 0 : sy > H - 1 ? H - 1 : sy;
      const x0 = Math.floor(cx);
      const y0 = Math.floor(cy);
      const x1 = x0 + 1 < W ? x0 + 1 : x0;
      const y1 = y0 + 1 < H ? y0 + 1 : y0;
      const fx = cx - x0;
      const fy = cy - y0;
      const w00 = (1 - fx) * (1 - fy);
      const w01 = fx * (1 - fy);
      const w10 = (1 - fx) * fy;
      const w11 = fx * fy;
      const p00 = (y0 * W + x0) * 3;
      const p01 = (y0 * W + x1) * 3;
      const p10 = (y1 * W + x0) * 3;
      const p11 = (y1 * W + x1) * 3;
      for (let ch = 0; ch < 3; ch++) {
        out[o + ch] = w00 * src[p00 + ch] + w01 * src[p01 + ch] + w10 * src[p10 + ch] + w11 * src[p11 + ch] + 0.5;
      }
    }
  }
  return { data: out, width: outW, height: outH };
}

/** Boxes narrower or shorter than this (output pixels) after a transform are dropped. */
const MIN_BOX_PIXELS = 2;
/** Boxes keeping less than this share of their transformed area inside the image are dropped. */
const MIN_VISIBLE_FRACTION = 0.2;

/**
 * Moves boxes through `m` (input W x H -> output outW x outH): the new box encloses the four moved corners,
 * is clipped to the image, and is dropped when mostly outside or tiny.
 */
export function transformBoxes(boxes: Box[], m: Affine, W: number, H: number, outW: number, outH: number): Box[] {
  const [a, b, c, d, e, f] = m;
  const result: Box[] = [];
  for (const box of boxes) {
    const x0 = (box.x - box.w / 2) * W;
    const x1 = (box.x + box.w / 2) * W;
    const y0 = (box.y - box.h / 2) * H;
    const y1 = (box.y + box.h / 2) * H;
    const xs = [a * x0 + b * y0 + c, a * x1 + b * y0 + c, a * x0 + b * y1 + c, a * x1 + b * y1 + c];
    const ys = [d * x0 + e * y0 + f, d * x1 + e * y0 + f, d * x0 + e * y1 + f, d * x1 + e * y1 + f];
    const left = Math.min(...xs);
    const right = Math.max(...xs);
    const top = Math.min(...ys);
    const bottom = Math.max(...ys);
    const cl = Math.max(0, left);
    const cr = Math.min(outW, right);
    const ct = Math.max(0, top);
    const cb = Math.min(outH, bottom);
    const cw = cr - cl;
    const chh = cb - ct;
    if (cw < MIN_BOX_PIXELS || chh < MIN_BOX_PIXELS) continue;
    const fullArea = (right - left) * (bottom - top);
    if (cw * chh < MIN_VISIBLE_FRACTION * fullArea) continue;
    result.push({ cls: box.cls, x: (cl + cr) / 2 / outW, y: (ct + cb) / 2 / outH, w: cw / outW, h: chh / outH });
  }
  return result;
}
