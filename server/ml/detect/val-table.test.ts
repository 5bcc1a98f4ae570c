import { describe, it, expect } from "vitest";
import { formatValTable } from "./val-table";

describe("formatValTable", () => {
  const report = {
    precision: 0.75,
    recall: 0.5,
    mAP50: 0.625,
    mAP50_95: 0.4,
    perClass: [
      { cls: 0, instances: 5, ap50: 0.9, ap50_95: 0.6, precision: 1, recall: 0.6 },
      { cls: 1, instances: 0, ap50: null, ap50_95: null, precision: 0, recall: 0 },
      { cls: 2, instances: 3, ap50: 0.35, ap50_95: 0.2, precision: 0.5, recall: 0.4 },
    ],
  };

  it("prints Ultralytics' header, an all row and the classes with ground truth, right-aligned", () => {
    const lines = formatValTable({ report, classNames: ["person", "car", "a-very-long-class-name-indeed"], images: 7, imagesPerClass: [4, 0, 2] });
    expect(lines.map((l) => l.trim().split(/\s+/))).toEqual([
      ["Class", "Images", "Instances", "Box(P", "R", "mAP50", "mAP50-95)"],
      ["all", "7", "8", "0.750", "0.500", "0.625", "0.400"],
      ["person", "4", "5", "1.000", "0.600", "0.900", "0.600"],
      ["a-very-long-class-name-indeed", "2", "3", "0.500", "0.400", "0.350", "0.200"],
    ]);
    expect(new Set(lines.map((l) => l.length)).size).toBe(1);
    expect(lines[0].indexOf("Images") + "Images".length).toBe(lines[1].indexOf(" 7") + 2);
  });
});
