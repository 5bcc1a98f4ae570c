import { describe, expect, it } from "vitest";
import { mapForeignOp, ultralyticsAugmentation } from "./foreign";
import { validatePipeline } from "./pipeline";

describe("augmentations in other libraries' words", () => {
  it("maps Albumentations transforms onto our ops, in every spelling clients send", () => {
    expect(mapForeignOp({ type: "HorizontalFlip", p: 0.3 })).toEqual([{ op: "hflip", p: 0.3 }]);
    expect(mapForeignOp({ __class_fullname__: "albumentations.augmentations.geometric.rotate.Rotate", p: 1, limit: [-30, 20] })).toEqual([{ op: "rotate", p: 1, degrees: 30 }]);
    expect(mapForeignOp({ op: "RandomBrightnessContrast", brightness_limit: 0.1 })).toEqual([
      { op: "brightness", amount: 0.1 },
      { op: "contrast", amount: 0.2 },
    ]);
    expect(mapForeignOp({ op: "hflip", p: 0.5 })).toEqual([{ op: "hflip", p: 0.5 }]);
    expect(mapForeignOp({ type: "ElasticTransform" })).toBeNull();
  });

  it("validates a mixed pipeline, naming unknown ops at the client's own positions", () => {
    const mixed = validatePipeline([{ type: "RandomBrightnessContrast" }, { type: "VerticalFlip", p: 0.2 }]);
    expect(mixed.ok && mixed.pipeline.map((op) => op.op)).toEqual(["brightness", "contrast", "vflip"]);
    const bad = validatePipeline([{ type: "RandomBrightnessContrast" }, { op: "hflip", p: 2 }, { type: "Mosaic" }]);
    expect(bad.ok ? [] : bad.errors.map((e) => [e.index, e.field])).toEqual([
      [1, "p"],
      [2, "op"],
    ]);
    expect(bad.ok ? "" : bad.errors[1].message).toMatch(/unknown op 'Mosaic'/);
  });

  it("turns Ultralytics' augmentation settings into ops and keeps the rest as given", () => {
    const { pipeline, rest } = ultralyticsAugmentation({ fliplr: 0.5, flipud: 0, hsv_h: 0.015, scale: 0.5, mosaic: 1, mixup: 0.1, copy_paste: "x" });
    expect(pipeline).toEqual([
      { op: "hflip", p: 0.5 },
      { op: "hue", p: 1, amount: 0.015 },
      { op: "scale", p: 1, range: [0.5, 1.5] },
    ]);
    expect(rest).toEqual({ mosaic: 1, mixup: 0.1, copy_paste: "x" });
    expect(validatePipeline(pipeline).ok).toBe(true);
  });
});
