// The assigner graph makes detect/targets.ts's targets from the same predictions and boxes: the same
// anchors in the foreground, the same scores, boxes, DFL bins and normaliser (to float32 rounding),
// including its tie rules — boxes sharing anchors, tied metrics, boxes holding fewer anchors than top-k.
import { describe, expect, it } from "vitest";
import type { Box } from "../augment/geometry";
import { makeAnchors, REG_MAX } from "../detect/dfl";
import { detectionTargets } from "../detect/targets";
import { emitAssigner } from "./assign-graph";
import { TrainGraph } from "./builder";
import { createOrtSession, ort } from "./session";
import { groundTruthFeeds } from "./tasks";
import { maxRelativeError } from "./testing/parity";

const imgsz = 64;
const nc = 3;
const grid = makeAnchors(imgsz, imgsz);
const A = grid.count;

function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

/** Sigmoid scores and pixel boxes near each anchor; in image 1 every anchor predicts the same, so metrics tie. */
function predictions(images: number, seed: number): { scores: Float32Array; boxesPx: Float32Array } {
  const next = random(seed);
  const scores = new Float32Array(images * A * nc);
  const boxesPx = new Float32Array(images * A * 4);
  for (let i = 0; i < images; i++) {
    for (let a = 0; a < A; a++) {
      const row = i * A + a;
      const tied = i === 1;
      const s = grid.strides[a];
      const [cx, cy] = tied ? [32, 32] : [grid.points[2 * a] * s, grid.points[2 * a + 1] * s];
      const [w, h] = tied ? [20, 20] : [s * (1 + 3 * next()), s * (1 + 3 * next())];
      boxesPx.set([cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2], 4 * row);
      for (let c = 0; c < nc; c++) scores[row * nc + c] = tied ? 0.25 : next();
    }
  }
  return { scores, boxesPx };
}

const boxes: Box[][] = [
  // Overlapping boxes share anchors; the small one holds fewer anchors than top-k.
  [{ cls: 0, x: 0.4, y: 0.4, w: 0.5, h: 0.5 }, { cls: 2, x: 0.5, y: 0.5, w: 0.5, h: 0.4 }, { cls: 1, x: 0.45, y: 0.45, w: 0.1, h: 0.1 }],
  // The same box twice, another class: every shared anchor ties, and the first box must win.
  [{ cls: 1, x: 0.5, y: 0.5, w: 0.6, h: 0.6 }, { cls: 2, x: 0.5, y: 0.5, w: 0.6, h: 0.6 }],
  [],
  [{ cls: 2, x: 0.2, y: 0.8, w: 0.3, h: 0.2 }],
];

describe("the assigner as ONNX ops", () => {
  it("gives the JavaScript assigner's targets", async () => {
    const images = boxes.length;
    const g = new TrainGraph();
    const scoresIn = g.input("scores", [images, A, nc]);
    const boxesIn = g.input("boxes", [images, A, 4]);
    const gt = { boxes: g.input("gt_boxes", [images, "gts", 4]), classes: g.input("gt_classes", [images, "gts", nc]) };
    const t = emitAssigner(g, { grid, numClasses: nc, regMax: REG_MAX }, scoresIn, boxesIn, gt);
    g.output("t_scores", t.scores, [images, A, nc]);
    g.output("t_weights", t.weights, [images, A, 1]);
    g.output("t_boxes", t.boxes, [images, A, 4]);
    g.output("t_bins", t.bins, [images, A, 4, REG_MAX]);
    g.output("t_normaliser", t.normaliser, []);
    const session = await createOrtSession(g.toBytes("assigner"), { provider: "cpu", deviceId: 0 });
    try {
      const { scores, boxesPx } = predictions(images, 11);
      const out = await session.run({
        scores: new ort.Tensor("float32", scores, [images, A, nc]),
        boxes: new ort.Tensor("float32", boxesPx, [images, A, 4]),
        ...groundTruthFeeds(gt, boxes, { numClasses: nc, imgsz }),
      });
      const want = detectionTargets(scores, boxesPx, boxes, { numClasses: nc, imgsz, grid });
      const weights = out.t_weights.data as Float32Array;
      expect(want.positives).toBeGreaterThan(20);
      expect(Array.from(weights, (w) => w > 0)).toEqual(Array.from(want.weights, (w) => w > 0));
      expect(maxRelativeError(weights, want.weights), "weights").toBeLessThan(1e-5);
      expect(maxRelativeError(out.t_scores.data as Float32Array, want.targetScores), "scores").toBeLessThan(1e-5);
      expect(maxRelativeError(out.t_boxes.data as Float32Array, want.targetBoxes), "boxes").toBeLessThan(1e-6);
      expect(maxRelativeError(out.t_bins.data as Float32Array, want.binWeights), "bins").toBeLessThan(1e-5);
      expect((out.t_normaliser.data as Float32Array)[0]).toBeCloseTo(want.normaliser, 5);
    } finally {
      await session.release();
    }
  });
});
