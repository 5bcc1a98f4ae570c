import { mkdtemp, readdir } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import sharp from "sharp";
import { describe, it, expect } from "vitest";
import {
  confusionFromClassify,
  confusionFromDetect,
  confusionMatrixPlots,
  detectionCurvePlots,
  parseResultsCsv,
  resultsPlot,
  validationPlots,
  writePlots,
  type DetectionCurves,
} from "./plots";

const seriesCount = (svg: string) => svg.match(/<path class="series"/g)?.length ?? 0;
const texts = (svg: string) => [...svg.matchAll(/<text[^>]*>([^<]*)<\/text>/g)].map((m) => m[1]);

const RESULTS_CSV = [
  "epoch,train/loss,train/acc,val/loss,metrics/accuracy_top1,lr/pg0,time",
  "1,1.2,0.4,1.1,0.45,0.01,3.2",
  "2,0.8,0.6,0.9,0.62,0.008,3.1",
  "3,0.5,0.8,,0.81,0.006,3.3",
].join("\n");

const THRESHOLDS = Array.from({ length: 1000 }, (_, i) => i / 999);
const RECALL = Array.from({ length: 101 }, (_, i) => i / 100);

/** Two labelled classes (AP 0.5 and 1) and a third without ground truth. */
const CURVES: DetectionCurves = {
  pr: { recall: RECALL, precision: [RECALL.map(() => 0.5), RECALL.map(() => 1), null] },
  confidence: {
    threshold: THRESHOLDS,
    precision: [THRESHOLDS.map((t) => t), THRESHOLDS.map(() => 1), THRESHOLDS.map(() => 0)],
    recall: [THRESHOLDS.map((t) => 1 - t), THRESHOLDS.map(() => 1), THRESHOLDS.map(() => 0)],
    // Mean of the two labelled classes peaks at 0.8 at confidence 0.300 (threshold 300 of 1000).
    f1: [THRESHOLDS.map((t) => 0.6 - Math.abs(t - THRESHOLDS[300])), THRESHOLDS.map(() => 1), THRESHOLDS.map(() => 0)],
  },
};

describe("results.png", () => {
  it("draws one titled chart per results.csv column except epoch and time, skipping empty cells", () => {
    const table = parseResultsCsv(RESULTS_CSV);
    expect(table.rows[2][3]).toBeUndefined();
    const plot = resultsPlot(table);
    expect(plot.name).toBe("results");
    const labels = texts(plot.svg);
    for (const title of ["train/loss", "train/acc", "val/loss", "metrics/accuracy_top1", "lr/pg0"]) expect(labels).toContain(title);
    expect(labels).not.toContain("time");
    expect(labels.filter((l) => l === "epoch")).toHaveLength(5);
    expect(seriesCount(plot.svg)).toBe(5);
    // val/loss has two points: one path segment (M…L…), the others three points.
    expect(plot.svg).toMatch(/<path class="series" d="M[\d.]+,[\d.]+L[\d.]+,[\d.]+"/);
  });

  it("refuses a table without an epoch column", () => {
    expect(() => resultsPlot(parseResultsCsv("step,loss\n1,2\n"))).toThrow(/no "epoch" column \(columns: step, loss\)/);
  });
});

describe("confusion matrices", () => {
  it("puts classification's [true][pred] counts as Predicted rows and True columns, columns normalised", () => {
    // 3 cats: 2 right, 1 taken for a dog; 1 dog, right.
    const input = confusionFromClassify(
      [
        [2, 1],
        [0, 1],
      ],
      ["cat", "dog"],
    );
    expect(input.matrix).toEqual([
      [2, 0],
      [1, 1],
    ]);
    const [counts, normalized] = confusionMatrixPlots(input);
    expect(counts.name).toBe("confusion_matrix");
    expect(normalized.name).toBe("confusion_matrix_normalized");
    expect(texts(counts.svg)).toEqual(expect.arrayContaining(["Confusion Matrix", "Predicted", "True", "cat", "dog", "2", "1"]));
    // The cat column (true cat) splits 2/3 : 1/3; the dog column is all dog.
    expect(texts(normalized.svg)).toEqual(expect.arrayContaining(["Confusion Matrix Normalized", "0.67", "0.33", "1.00"]));
  });

  it("labels detection's background row and column and truncates long class names", () => {
    const input = confusionFromDetect(
      [
        [3, 0, 1],
        [0, 2, 0],
        [1, 1, 0],
      ],
      ["a_very_long_class_name_indeed", "b"],
    );
    const svg = confusionMatrixPlots(input)[0].svg;
    expect(texts(svg)).toEqual(expect.arrayContaining(["background", "a_very_long_c…"]));
    expect(svg).not.toContain("a_very_long_class_name_indeed");
  });

  it("leaves cell numbers out above 20 classes but keeps the axes", () => {
    const names = Array.from({ length: 30 }, (_, i) => `c${i}`);
    const matrix = names.map((_, p) => names.map((__, t) => (p === t ? 7 : 0)));
    const svg = confusionMatrixPlots(confusionFromClassify(matrix, names))[0].svg;
    // Only the colour bar's top says 7.
    expect(texts(svg).filter((t) => t === "7")).toHaveLength(1);
    expect(texts(svg)).toContain("c29");
  });

  it("draws only the non-empty cells and no axis names from 100 classes on", () => {
    const names = Array.from({ length: 1000 }, (_, i) => `c${i}`);
    const matrix = names.map((_, p) => names.map((__, t) => (p === t ? 5 : 0)));
    const svg = confusionMatrixPlots(confusionFromClassify(matrix, names))[0].svg;
    // The background, 1000 diagonal cells, the frame and the colour bar's 20 steps and frame.
    expect(svg.match(/<rect /g)).toHaveLength(1 + 1 + 1000 + 1 + 20 + 1);
    expect(texts(svg).some((t) => /^c\d+$/.test(t))).toBe(false);
    expect(texts(svg)).toEqual(expect.arrayContaining(["Predicted", "True"]));
  });

  it("names a matrix that does not fit the classes", () => {
    expect(() => confusionFromDetect([[1, 2]], ["a"])).toThrow(/detection confusion is 1×2, expected 2×2/);
  });
});

describe("detection curves", () => {
  it("draws PR, F1, P and R curves: a thin line per labelled class and a thick mean with Ultralytics' legend", () => {
    const plots = detectionCurvePlots(CURVES, ["cat", "dog", "unseen"]);
    expect(plots.map((p) => p.name)).toEqual(["PR_curve", "F1_curve", "P_curve", "R_curve"]);
    const [pr, f1] = plots;
    expect(seriesCount(pr.svg)).toBe(3);
    expect(texts(pr.svg)).toEqual(expect.arrayContaining(["Precision-Recall Curve", "Recall", "Precision", "all classes 0.750 mAP@0.5", "cat 0.500", "dog 1.000"]));
    expect(texts(pr.svg).some((t) => t.startsWith("unseen"))).toBe(false);
    expect(pr.svg).toMatch(/stroke-width="3"/);
    expect(texts(f1.svg)).toEqual(expect.arrayContaining(["F1-Confidence Curve", "Confidence", "F1", "all classes 0.80 at 0.300"]));
    for (const plot of plots.slice(1)) expect(seriesCount(plot.svg)).toBe(3);
  });

  it("drops per-class legend entries above 20 classes", () => {
    const nc = 25;
    const many: DetectionCurves = {
      pr: { recall: RECALL, precision: Array.from({ length: nc }, () => RECALL.map(() => 0.5)) },
      confidence: {
        threshold: THRESHOLDS,
        precision: Array.from({ length: nc }, () => THRESHOLDS),
        recall: Array.from({ length: nc }, () => THRESHOLDS),
        f1: Array.from({ length: nc }, () => THRESHOLDS),
      },
    };
    const [pr] = detectionCurvePlots(many, Array.from({ length: nc }, (_, i) => `class${i}`));
    expect(seriesCount(pr.svg)).toBe(nc + 1);
    expect(texts(pr.svg).filter((t) => t.startsWith("class"))).toEqual([]);
    expect(texts(pr.svg)).toContain("all classes 0.500 mAP@0.5");
  });
});

describe("validationPlots", () => {
  it("makes the confusion matrices of a classification and all six plots of a detection", () => {
    const classify = validationPlots("classify", ["a", "b"], { details: { confusion: [[1, 0], [0, 1]] } });
    expect(classify.map((p) => p.name)).toEqual(["confusion_matrix", "confusion_matrix_normalized"]);
    const detect = validationPlots("detect", ["cat", "dog", "unseen"], {
      details: { confusion: Array.from({ length: 4 }, () => [1, 0, 0, 0]) },
      plots: { detectionCurves: CURVES },
    });
    expect(detect.map((p) => p.name)).toEqual(["confusion_matrix", "confusion_matrix_normalized", "PR_curve", "F1_curve", "P_curve", "R_curve"]);
    expect(() => validationPlots("classify", ["a"], { details: { confusion: "nope" } })).toThrow(/details.confusion of the classify run is not a matrix/);
  });
});

describe("writePlots", () => {
  it("writes each chart as a real PNG of the SVG's size, and nothing else", async () => {
    const dir = path.join(await mkdtemp(path.join(os.tmpdir(), "plots-")), "plots");
    const plots = [resultsPlot(parseResultsCsv(RESULTS_CSV)), ...detectionCurvePlots(CURVES, ["cat", "dog", "unseen"]).slice(0, 1)];
    const files = await writePlots(dir, plots);
    expect(files).toEqual([path.join(dir, "results.png"), path.join(dir, "PR_curve.png")]);
    expect((await readdir(dir)).sort()).toEqual(["PR_curve.png", "results.png"]);
    const results = await sharp(files[0]).metadata();
    expect(results).toMatchObject({ format: "png", width: 1300, height: 210 });
    expect(await sharp(files[1]).metadata()).toMatchObject({ format: "png", width: 760, height: 520 });
    // Not blank: the charts drew dark pixels on the white background.
    const stats = await sharp(files[0]).stats();
    expect(stats.channels[0].min).toBeLessThan(100);
  });

  it("refuses a name that is not a plain file name", async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), "plots-"));
    await expect(writePlots(dir, [{ name: "../escape", svg: "<svg/>" }])).rejects.toThrow(/plot name "..\/escape"/);
  });
});
