// From raw YOLOv8 outputs to detections in the pixels of the original image.

import type * as tf from "@tensorflow/tfjs";
import type { Letterboxed } from "../data/image";
import { decodeRawOutput, makeAnchors, type AnchorGrid } from "./dfl";
import { nonMaxSuppression, type Detection, type NmsOptions } from "./nms";

/** Decode + NMS of raw outputs [batch, anchors, 4*16 + nc] of a square imgsz input; boxes in input pixels. */
export function detectionsFromRaw(
  raw: Float32Array,
  dims: { batch: number; numClasses: number; imgsz: number; grid?: AnchorGrid },
  nms: NmsOptions = {},
): Detection[][] {
  const grid = dims.grid ?? makeAnchors(dims.imgsz, dims.imgsz);
  const decoded = decodeRawOutput(raw, { batch: dims.batch, numClasses: dims.numClasses, grid });
  return nonMaxSuppression(decoded, { batch: dims.batch, numClasses: dims.numClasses, anchors: grid.count }, nms);
}

/** Maps detections on a letterboxed input back to the source image (clipped to it), like Ultralytics' scale_boxes. */
export function toSourcePixels(detections: Detection[], boxed: Pick<Letterboxed, "scale" | "padX" | "padY">, width: number, height: number): Detection[] {
  const clip = (v: number, max: number) => Math.min(max, Math.max(0, v));
  return detections.map((d) => {
    const [x1, y1, x2, y2] = d.box;
    return {
      ...d,
      box: [
        clip((x1 - boxed.padX) / boxed.scale, width),
        clip((y1 - boxed.padY) / boxed.scale, height),
        clip((x2 - boxed.padX) / boxed.scale, width),
        clip((y2 - boxed.padY) / boxed.scale, height),
      ],
    };
  });
}

/** Runs `model` on NHWC input [batch, imgsz, imgsz, 3] in [0, 1] and returns detections per image (input pixels). */
export async function predictDetections(model: tf.LayersModel, input: tf.Tensor4D, numClasses: number, nms: NmsOptions = {}): Promise<Detection[][]> {
  const [batch, imgsz] = input.shape;
  const output = model.predict(input) as tf.Tensor;
  try {
    return detectionsFromRaw((await output.data()) as Float32Array, { batch, numClasses, imgsz }, nms);
  } finally {
    output.dispose();
  }
}
