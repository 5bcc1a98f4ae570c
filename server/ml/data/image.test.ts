import { describe, it, expect, beforeAll, afterAll } from "vitest";
import { mkdtemp, rm, writeFile, readFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import sharp from "sharp";
import { decodeImage, decodeImageResized, encodeJpeg, encodePng, letterbox, readImageSize, resizeTo, ImageDecodeError, type RgbImage } from "./image";

let dir: string;
const W = 40, H = 30;
const pixels = new Uint8Array(W * H * 3).map((_, i) => (i * 7) % 256);
const raw = () => sharp(pixels, { raw: { width: W, height: H, channels: 3 } });

/** A 24-bit bottom-up BMP written by hand (sharp cannot write BMP). */
function bmp24(img: RgbImage): Uint8Array {
  const rowBytes = Math.ceil((img.width * 3) / 4) * 4;
  const out = new Uint8Array(54 + rowBytes * img.height);
  const view = new DataView(out.buffer);
  out.set([0x42, 0x4d]);
  view.setUint32(2, out.length, true);
  view.setUint32(10, 54, true);
  view.setUint32(14, 40, true);
  view.setInt32(18, img.width, true);
  view.setInt32(22, img.height, true);
  view.setUint16(26, 1, true);
  view.setUint16(28, 24, true);
  for (let y = 0; y < img.height; y++) {
    for (let x = 0; x < img.width; x++) {
      const s = (y * img.width + x) * 3;
      const d = 54 + (img.height - 1 - y) * rowBytes + x * 3;
      out[d] = img.data[s + 2];
      out[d + 1] = img.data[s + 1];
      out[d + 2] = img.data[s];
    }
  }
  return out;
}

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), "image-test-"));
  await raw().png().toFile(path.join(dir, "a.png"));
  await raw().jpeg().toFile(path.join(dir, "a.jpg"));
  await raw().webp({ lossless: true }).toFile(path.join(dir, "a.webp"));
  await raw().tiff({ compression: "lzw" }).toFile(path.join(dir, "a.tiff"));
  await raw().gif().toFile(path.join(dir, "a.gif"));
  await raw().greyscale().png().toFile(path.join(dir, "grey.png"));
  await raw().ensureAlpha(0.5).png().toFile(path.join(dir, "alpha.png"));
  await raw().toColourspace("rgb16").png().toFile(path.join(dir, "deep.png"));
  await raw().jpeg().withMetadata({ orientation: 6 }).toFile(path.join(dir, "sideways.jpg"));
  await writeFile(path.join(dir, "a.bmp"), bmp24({ data: pixels, width: W, height: H }));
  const jpeg = await readFile(path.join(dir, "a.jpg"));
  await writeFile(path.join(dir, "truncated.jpg"), jpeg.subarray(0, Math.floor(jpeg.length / 2)));
  await writeFile(path.join(dir, "text.jpg"), "this is not an image");
});
afterAll(() => rm(dir, { recursive: true, force: true }));

describe("decodeImage", () => {
  it.each(["a.png", "a.webp", "a.tiff", "a.bmp", "deep.png", "alpha.png"])("decodes %s to exact 8-bit RGB", async (name) => {
    const img = await decodeImage(path.join(dir, name));
    expect([img.width, img.height, img.data.length]).toEqual([W, H, W * H * 3]);
    expect(img.data).toEqual(pixels);
  });

  it("decodes lossy JPEG and palette GIF to 3 channels close to the source, and greyscale to equal channels", async () => {
    for (const name of ["a.jpg", "a.gif"]) {
      const img = await decodeImage(path.join(dir, name));
      expect(img.data.length).toBe(W * H * 3);
      const meanError = img.data.reduce((a, v, i) => a + Math.abs(v - pixels[i]), 0) / img.data.length;
      expect(meanError, name).toBeLessThan(40);
    }
    const grey = await decodeImage(path.join(dir, "grey.png"));
    expect(grey.data.length).toBe(W * H * 3);
    expect(grey.data[3]).toBe(grey.data[4]);
  });

  it("honours EXIF orientation", async () => {
    const img = await decodeImage(path.join(dir, "sideways.jpg"));
    expect([img.width, img.height]).toEqual([H, W]);
    expect(await readImageSize(path.join(dir, "sideways.jpg"))).toEqual({ width: H, height: W });
  });

  it("names the file and the reason when decoding fails", async () => {
    await expect(decodeImage(path.join(dir, "truncated.jpg"))).rejects.toThrow(/truncated\.jpg: truncated or corrupt/);
    await expect(decodeImage(path.join(dir, "text.jpg"))).rejects.toThrow(/text\.jpg: unsupported image format/);
    await expect(decodeImage(path.join(dir, "missing.png"))).rejects.toThrow(/missing\.png: file not found/);
    await expect(decodeImage(path.join(dir, "a.png"), { maxPixels: 100 })).rejects.toThrow(/a\.png: too many pixels \(limit is 100\)/);
    await expect(decodeImage(path.join(dir, "a.bmp"), { maxPixels: 100 })).rejects.toThrow(/a\.bmp: too many pixels/);
    await expect(readImageSize(path.join(dir, "text.jpg"))).rejects.toBeInstanceOf(ImageDecodeError);
  });

  it("decodeImageResized stretches to the requested size", async () => {
    const img = await decodeImageResized(path.join(dir, "a.png"), 16, 16);
    expect([img.width, img.height, img.data.length]).toEqual([16, 16, 16 * 16 * 3]);
  });
});

describe("resize, letterbox and encoders", () => {
  const img: RgbImage = { data: new Uint8Array(W * H * 3).fill(200), width: W, height: H };

  it("resizeTo returns the requested size", async () => {
    const out = await resizeTo(img, 10, 20);
    expect([out.width, out.height, out.data.length]).toEqual([10, 20, 600]);
    expect(out.data.every((v) => v === 200)).toBe(true);
  });

  it("letterbox keeps the aspect ratio, centres the image and pads with grey 114", async () => {
    const { img: boxed, scale, padX, padY } = await letterbox(img, 64);
    expect([boxed.width, boxed.height]).toEqual([64, 64]);
    expect(scale).toBeCloseTo(64 / 40);
    expect(padX).toBe(0);
    expect(padY).toBe(8); // 30 * 1.6 = 48 rows of image, 16 rows of padding split evenly
    const at = (x: number, y: number) => boxed.data[(y * 64 + x) * 3];
    expect(at(10, 3)).toBe(114);
    expect(at(10, 60)).toBe(114);
    expect(at(10, 32)).toBe(200);
  });

  it("encodes previews that decode back to the same size", async () => {
    const jpeg = await encodeJpeg(img);
    const png = await encodePng(img);
    expect((await sharp(jpeg).metadata()).format).toBe("jpeg");
    expect((await sharp(png).metadata()).width).toBe(W);
  });
});
