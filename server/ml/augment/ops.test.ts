import { describe, it, expect } from "vitest";
import type { RgbImage } from "../data/image";
import { createRng } from "./rng";
import { augmentOpNames, rotate90, runOp, type AugmentOpInput } from "./ops";
import { applyPipeline, describeOps, parsePipeline, validatePipeline, formatPipelineIssue, AugmentPipelineError } from "./pipeline";
import type { Box } from "./geometry";

/** A deterministic test image with structure in both axes and all channels. */
function gradientImage(width = 32, height = 24): RgbImage {
  const data = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const o = (y * width + x) * 3;
      data[o] = (x * 255) / (width - 1);
      data[o + 1] = (y * 255) / (height - 1);
      data[o + 2] = ((x + y) * 97) % 256;
    }
  }
  return { data, width, height };
}

function mean(img: RgbImage): number {
  return img.data.reduce((a, b) => a + b, 0) / img.data.length;
}

function pixel(img: RgbImage, x: number, y: number): number[] {
  const o = (y * img.width + x) * 3;
  return [img.data[o], img.data[o + 1], img.data[o + 2]];
}

const always = (op: AugmentOpInput) => parsePipeline([{ ...op, p: 1 }]);
const run = (op: AugmentOpInput, img: RgbImage, seed = 1, boxes: Box[] = []) => applyPipeline(img, always(op), createRng(seed), boxes);

const everyOp: AugmentOpInput[] = augmentOpNames.map((op) => ({ op }) as AugmentOpInput);

describe("augmentation ops", () => {
  it.each(everyOp)("$op is deterministic for a seed, varies across seeds where random, and is identity at p=0", (op) => {
    const img = gradientImage();
    const a = run(op, img, 11);
    const b = run(op, img, 11);
    expect(Buffer.from(a.img.data).equals(Buffer.from(b.img.data))).toBe(true);
    const untouched = applyPipeline(img, parsePipeline([{ ...op, p: 0 }]), createRng(11));
    expect(untouched.img).toBe(img);
    const input = img.data.slice();
    run(op, img, 12);
    expect(img.data).toEqual(input); // ops never modify their input
    if (op.op !== "hflip" && op.op !== "vflip" && op.op !== "grayscale") {
      const outputs = new Set([1, 2, 3, 4, 5].map((seed) => Buffer.from(run(op, img, seed).img.data).toString("base64")));
      expect(outputs.size).toBeGreaterThan(1);
    }
  });

  it("applies an op with probability p", () => {
    const pipeline = parsePipeline([{ op: "hflip", p: 0.3 }]);
    const img = gradientImage(8, 4);
    let flipped = 0;
    for (let seed = 0; seed < 1000; seed++) if (applyPipeline(img, pipeline, createRng(seed)).img !== img) flipped++;
    expect(flipped / 1000).toBeGreaterThan(0.25);
    expect(flipped / 1000).toBeLessThan(0.35);
  });

  it("hflip and vflip twice give back the original image and boxes", () => {
    const img = gradientImage();
    const boxes: Box[] = [{ cls: 2, x: 0.3, y: 0.4, w: 0.2, h: 0.1 }];
    for (const op of ["hflip", "vflip"] as const) {
      const once = run({ op }, img, 1, boxes);
      expect(once.img.data).not.toEqual(img.data);
      const twice = run({ op }, once.img, 1, once.boxes);
      expect(twice.img.data).toEqual(img.data);
      expect(twice.boxes[0].x).toBeCloseTo(0.3, 12);
      expect(twice.boxes[0].y).toBeCloseTo(0.4, 12);
    }
  });

  it("flips move pixels and boxes exactly", () => {
    const img = gradientImage();
    const box = { cls: 0, x: 0.25, y: 0.1, w: 0.2, h: 0.1 };
    const h = run({ op: "hflip" }, img, 1, [box]);
    expect(pixel(h.img, 0, 5)).toEqual(pixel(img, img.width - 1, 5));
    expect(h.boxes).toEqual([{ ...box, x: 0.75 }]);
    const v = run({ op: "vflip" }, img, 1, [box]);
    expect(pixel(v.img, 3, 0)).toEqual(pixel(img, 3, img.height - 1));
    expect(v.boxes[0].y).toBeCloseTo(0.9, 12);
  });

  it("rot90 turns counter-clockwise, swapping width and height, and moves boxes with the pixels", () => {
    const img = gradientImage(6, 4);
    const box: Box = { cls: 1, x: 0.25, y: 0.125, w: 0.5, h: 0.25 };
    const once = rotate90(img, [box], 1);
    expect([once.img.width, once.img.height]).toEqual([4, 6]);
    // The top-right source pixel ends up top-left after a counter-clockwise quarter turn.
    expect(pixel(once.img, 0, 0)).toEqual(pixel(img, 5, 0));
    expect(once.boxes[0]).toEqual({ cls: 1, x: 0.125, y: 0.75, w: 0.25, h: 0.5 });
    let full = { img, boxes: [box] };
    for (let i = 0; i < 4; i++) full = rotate90(full.img, full.boxes, 1);
    expect(full.img).toEqual(img);
    expect(full.boxes[0].x).toBeCloseTo(box.x, 12);
    const three = rotate90(img, [box], 3);
    const back = rotate90(three.img, three.boxes, 1);
    expect(back.img).toEqual(img);
    expect(back.boxes[0].y).toBeCloseTo(box.y, 12);
  });

  it("a box follows the drawn object through rotate, scale, translate and random_resized_crop", () => {
    // A bright square on a black image; its transformed box must still enclose the bright pixels.
    const size = 64;
    const data = new Uint8Array(size * size * 3);
    for (let y = 24; y < 40; y++) for (let x = 16; x < 32; x++) data.fill(255, (y * size + x) * 3, (y * size + x) * 3 + 3);
    const img = { data, width: size, height: size };
    const box: Box = { cls: 0, x: 24 / 64, y: 32 / 64, w: 16 / 64, h: 16 / 64 };
    const ops: AugmentOpInput[] = [
      { op: "rotate", degrees: 30, fill: 0 },
      { op: "scale", range: [0.7, 1.3], fill: 0 },
      { op: "translate", fraction: 0.2, fill: 0 },
      { op: "random_resized_crop", scale: [0.5, 1] },
    ];
    for (const op of ops) {
      for (let seed = 0; seed < 5; seed++) {
        const out = run(op, img, seed, [box]);
        let bright = 0, inside = 0;
        for (let y = 0; y < size; y++) {
          for (let x = 0; x < size; x++) {
            if (out.img.data[(y * size + x) * 3] < 200) continue;
            bright++;
            const b = out.boxes[0];
            if (b && Math.abs((x + 0.5) / size - b.x) <= b.w / 2 + 1 / size && Math.abs((y + 0.5) / size - b.y) <= b.h / 2 + 1 / size) inside++;
          }
        }
        if (bright > 0) expect(inside / bright, `${op.op} seed ${seed}`).toBeGreaterThan(0.97);
      }
    }
  });

  it("drops boxes pushed out of the image and clips boxes that stay partly inside", () => {
    const img = gradientImage(40, 40);
    const boxes: Box[] = [
      { cls: 0, x: 0.05, y: 0.5, w: 0.1, h: 0.1 },
      { cls: 1, x: 0.5, y: 0.5, w: 0.4, h: 0.4 },
    ];
    // The first uniform draw is the x shift (as a fraction of the width), the second the y shift.
    const shiftX = (fraction: number) => {
      const draws = [fraction, 0];
      return { ...createRng(0), uniform: () => draws.shift()! };
    };
    const op = { op: "translate", p: 1, fraction: 0.5, fill: 0 } as const;
    const right = runOp(op, { img, boxes }, shiftX(0.5));
    expect(right.boxes.map((b) => b.cls)).toEqual([0, 1]);
    expect(right.boxes[0].x).toBeCloseTo(0.55, 12);
    expect(right.boxes[1].x + right.boxes[1].w / 2).toBeCloseTo(1, 12); // clipped at the right edge
    expect(right.boxes[1].w).toBeCloseTo(0.2, 12);
    const left = runOp(op, { img, boxes }, shiftX(-0.5));
    expect(left.boxes.map((b) => b.cls)).toEqual([1]); // box 0 left the image
    expect(left.boxes[0].x - left.boxes[0].w / 2).toBeCloseTo(0, 12);
    const farLeft = runOp(op, { img, boxes: [boxes[1]] }, shiftX(-0.65));
    expect(farLeft.boxes).toEqual([]); // only 0.05 of its 0.4 width is still inside
  });

  it("brightness, contrast and saturation move the image the right way", () => {
    const img = gradientImage();
    const brighter = runOp({ op: "brightness", p: 1, amount: 0.5 }, { img, boxes: [] }, { ...createRng(0), uniform: (_lo, hi) => hi });
    const darker = runOp({ op: "brightness", p: 1, amount: 0.5 }, { img, boxes: [] }, { ...createRng(0), uniform: (lo) => lo });
    expect(mean(brighter.img)).toBeGreaterThan(mean(img) + 10);
    expect(mean(darker.img)).toBeLessThan(mean(img) - 10);
    const spread = (im: RgbImage) => Math.sqrt(im.data.reduce((a, v) => a + (v - mean(im)) ** 2, 0) / im.data.length);
    const lowContrast = runOp({ op: "contrast", p: 1, amount: 0.8 }, { img, boxes: [] }, { ...createRng(0), uniform: (lo) => lo });
    expect(spread(lowContrast.img)).toBeLessThan(spread(img) * 0.5);
    const desaturated = runOp({ op: "saturation", p: 1, amount: 1 }, { img, boxes: [] }, { ...createRng(0), uniform: (lo) => lo });
    const [r, g, b] = pixel(desaturated.img, 10, 10);
    expect(Math.max(r, g, b) - Math.min(r, g, b)).toBeLessThanOrEqual(1);
  });

  it("grayscale makes channels equal; hue keeps greys grey and changes colours", () => {
    const img = gradientImage();
    const grey = run({ op: "grayscale" }, img).img;
    for (let i = 0; i < grey.data.length; i += 3) expect(grey.data[i]).toBe(grey.data[i + 2]);
    const hued = runOp({ op: "hue", p: 1, amount: 0.5 }, { img: grey, boxes: [] }, { ...createRng(0), uniform: () => 0.25 }).img;
    expect(hued.data).toEqual(grey.data);
    const red = { data: new Uint8Array([255, 0, 0]), width: 1, height: 1 };
    const third = runOp({ op: "hue", p: 1, amount: 0.5 }, { img: red, boxes: [] }, { ...createRng(0), uniform: () => 1 / 3 }).img;
    expect([...third.data]).toEqual([0, 255, 0]);
  });

  it("blur smooths, noise adds variation around the same mean, cutout paints the fill value", () => {
    const checker = { data: new Uint8Array(16 * 16 * 3), width: 16, height: 16 };
    for (let i = 0; i < 256; i++) if ((i % 16) % 2 === Math.floor(i / 16) % 2) checker.data.fill(255, i * 3, i * 3 + 3);
    const blurred = run({ op: "blur", radius: [1.5, 1.5] }, checker).img;
    const contrastOf = (im: RgbImage) => Math.abs(im.data[8 * 16 * 3 + 8 * 3] - im.data[8 * 16 * 3 + 9 * 3]);
    expect(contrastOf(checker)).toBe(255);
    expect(contrastOf(blurred)).toBeLessThan(40);

    const flat = { data: new Uint8Array(32 * 32 * 3).fill(128), width: 32, height: 32 };
    const noisy = run({ op: "noise", std: 0.05 }, flat).img;
    expect(Math.abs(mean(noisy) - 128)).toBeLessThan(2);
    expect(new Set(noisy.data).size).toBeGreaterThan(10);

    const cut = run({ op: "cutout", holes: 2, size: [0.25, 0.25], fill: 7 }, flat).img;
    const painted = cut.data.filter((v) => v === 7).length / 3;
    expect(painted).toBeGreaterThanOrEqual(8 * 8 * 0.5);
    expect(painted).toBeLessThanOrEqual(2 * 8 * 8 + 20);
  });

  it("an op's randomness does not depend on how many numbers earlier ops drew (per-position forks)", () => {
    const img = gradientImage();
    const afterNoise = applyPipeline(img, parsePipeline([{ op: "noise", p: 1, std: 0 }, { op: "brightness", p: 1 }]), createRng(3));
    const afterFlip = applyPipeline(img, parsePipeline([{ op: "vflip", p: 0 }, { op: "brightness", p: 1 }]), createRng(3));
    expect(afterNoise.img.data).toEqual(afterFlip.img.data);
    const otherSeed = applyPipeline(img, parsePipeline([{ op: "vflip", p: 0 }, { op: "brightness", p: 1 }]), createRng(4));
    expect(otherSeed.img.data).not.toEqual(afterFlip.img.data);
  });
});

describe("pipeline validation", () => {
  it("fills defaults for a valid pipeline", () => {
    const result = validatePipeline([{ op: "hflip" }, { op: "rotate", degrees: 10 }]);
    expect(result).toEqual({
      ok: true,
      pipeline: [{ op: "hflip", p: 0.5 }, { op: "rotate", p: 0.5, degrees: 10, fill: 114 }],
    });
  });

  it("names the position and field of every problem", () => {
    const result = validatePipeline([
      { op: "hflip" },
      { op: "nope" },
      { op: "hflip", p: 1.5 },
      { op: "blur", radius: [3, 1] },
      { op: "rotate", degrees: "ten", color: 1 },
      { p: 1 },
    ]);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    const messages = result.errors.map(formatPipelineIssue);
    expect(messages).toContain("pipeline[2].p: must be ≤ 1");
    expect(messages).toContain("pipeline[3].radius: low must be ≤ high");
    expect(messages).toContain("pipeline[4].degrees: must be a number");
    expect(messages.find((m) => m.startsWith("pipeline[1].op:"))).toMatch(/unknown op 'nope'.*hflip/);
    expect(messages.find((m) => m.startsWith("pipeline[4].color:"))).toMatch(/unknown parameter for 'rotate'/);
    expect(messages.find((m) => m.startsWith("pipeline[5].op:"))).toMatch(/missing 'op'/);
    expect(result.errors.find((e) => e.index === 2)).toEqual({ index: 2, field: "p", message: "must be ≤ 1" });
  });

  it("rejects something that is not a list", () => {
    expect(validatePipeline({ op: "hflip" })).toEqual({ ok: false, errors: [{ index: -1, field: "", message: "must be a list of ops" }] });
    expect(() => parsePipeline([{ op: "noise", std: -1 }])).toThrow(AugmentPipelineError);
    expect(() => parsePipeline([{ op: "noise", std: -1 }])).toThrow("pipeline[0].std: must be ≥ 0");
  });

  it("describes every op with its parameters, defaults and bounds", () => {
    const ops = describeOps();
    expect(ops.map((o) => o.op).sort()).toEqual([...augmentOpNames].sort());
    const rotate = ops.find((o) => o.op === "rotate")!;
    expect(rotate.params.degrees).toMatchObject({ type: "number", default: 15, minimum: 0, maximum: 180 });
    expect(rotate.params.p).toMatchObject({ default: 0.5, maximum: 1 });
    expect(rotate.description).not.toBe("");
  });
});
