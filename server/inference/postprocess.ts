// Model output to the answer's detections and classes: the engine's NMS and scale-back for detectors
// (Ultralytics' export layout [N, 4 + nc, anchors]), softmax-or-not and top-k for classifiers.

import { nonMaxSuppression, type Detection } from "@/server/ml/detect/nms";
import { toSourcePixels } from "@/server/ml/detect/predict";
import type { ClassResult, DetectionResult, PredictParams } from "./schemas";
import type { Letterbox } from "./preprocess";

const round = (value: number, digits: number) => Number(value.toFixed(digits));

/**
 * An anchor whose best class is not among `classes` is dropped before NMS, as Ultralytics filters the
 * single-label candidates (its second-best class never stands in). Works on a copy of one image's output.
 */
function keepClasses(output: Float32Array, nc: number, anchors: number, classes: Set<number>): Float32Array {
  const filtered = output.slice();
  for (let a = 0; a < anchors; a++) {
    let best = 0;
    for (let c = 1; c < nc; c++) if (output[(4 + c) * anchors + a] > output[(4 + best) * anchors + a]) best = c;
    if (!classes.has(best)) for (let c = 0; c < nc; c++) filtered[(4 + c) * anchors + a] = -Infinity;
  }
  return filtered;
}

/** One image's output [4 + nc, anchors] → detections in the original image's pixels. */
export function imageDetections(
  output: Float32Array,
  nc: number,
  params: Pick<PredictParams, "conf" | "iou" | "max_det" | "classes" | "agnostic_nms">,
  boxed: Letterbox,
  width: number,
  height: number,
): Detection[] {
  const anchors = output.length / (4 + nc);
  const scores = params.classes ? keepClasses(output, nc, anchors, new Set(params.classes)) : output;
  const [kept] = nonMaxSuppression(scores, { batch: 1, numClasses: nc, anchors }, { conf: params.conf, iou: params.iou, maxDet: params.max_det, agnostic: params.agnostic_nms });
  return toSourcePixels(kept, boxed, width, height);
}

export function detectionResults(detections: Detection[], classNames: string[], width: number, height: number): DetectionResult[] {
  return detections.map(({ box: [x1, y1, x2, y2], score, cls }) => ({
    class_id: cls,
    name: classNames[cls] ?? `class_${cls}`,
    confidence: round(score, 5),
    box: { x1: round(x1, 2), y1: round(y1, 2), x2: round(x2, 2), y2: round(y2, 2) },
    xywhn: [round((x1 + x2) / 2 / width, 6), round((y1 + y2) / 2 / height, 6), round((x2 - x1) / width, 6), round((y2 - y1) / height, 6)],
  }));
}

function looksLikeProbabilities(row: Float32Array): boolean {
  let sum = 0;
  for (const v of row) {
    if (v < 0 || v > 1) return false;
    sum += v;
  }
  return Math.abs(sum - 1) < 1e-3;
}

function softmax(row: Float32Array): Float32Array {
  const max = row.reduce((m, v) => Math.max(m, v), -Infinity);
  const exp = row.map((v) => Math.exp(v - max));
  const sum = exp.reduce((s, v) => s + v, 0);
  return exp.map((v) => v / sum);
}

/** One image's class scores → the top k by confidence (probabilities: softmax of logits when the model gives those). */
export function topClasses(row: Float32Array, output: "auto" | "logits" | "probabilities", classNames: string[], k: number): ClassResult[] {
  const probabilities = output === "probabilities" || (output === "auto" && looksLikeProbabilities(row)) ? row : softmax(row);
  return Array.from(probabilities, (confidence, classId) => ({ class_id: classId, name: classNames[classId] ?? `class_${classId}`, confidence }))
    .sort((a, b) => b.confidence - a.confidence)
    .slice(0, k)
    .map((c) => ({ ...c, confidence: round(c.confidence, 6) }));
}
