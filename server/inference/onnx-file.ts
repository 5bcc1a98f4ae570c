// Every weights entry is served by ONNX Runtime: studio checkpoints, TF.js folders and PyTorch files are
// exported to ONNX by the engine once, on first use, into `inference.onnx` beside the weights file (the
// content folder, so it goes with the content).

import { stat } from "node:fs/promises";
import path from "node:path";
import type { WeightsFormat } from "@/db/schema";
import { Invalid } from "@/server/errors";

export interface ModelSpec {
  /** Absolute path of the entry's file. */
  file: string;
  format: WeightsFormat;
  task: "detect" | "classify";
  classNames: string[];
  /** The zoo model a PyTorch state dict is for. */
  model: string | null;
  imgsz: number | null;
}

export const EXPORTED_NAME = "inference.onnx";

function exportedOnnxPath(spec: Pick<ModelSpec, "file">): string {
  return path.join(path.dirname(spec.file), EXPORTED_NAME);
}

const exporting = new Map<string, Promise<string>>();

async function exportOnce(spec: ModelSpec, target: string): Promise<string> {
  // The engine (TF.js) is loaded only when a non-ONNX entry is first asked for.
  const [{ loadTfjsModel, tfjsBackend }, { exportOnnx }, { exportDetectionOnnx }, { writeFileAtomic }] = await Promise.all([
    import("@/server/weights/validate-model"),
    import("@/server/ml/export/onnx"),
    import("@/server/ml/detect/onnx-decode"),
    import("@/server/ml/train/checkpoint"),
  ]);
  // Exporting only reads the weights: the plain CPU backend is enough and is always there.
  await tfjsBackend("cpu");
  const loaded = await loadTfjsModel(spec);
  try {
    if (!loaded.graph) {
      throw new Invalid(`these ${spec.format === "tfjs" ? "TF.js" : "checkpoint"} weights carry no model graph, so they cannot be exported to ONNX for inference`, { model: ["no graph"] });
    }
    const options = { dynamicBatch: true, classNames: spec.classNames, imgsz: loaded.imgsz };
    const bytes = spec.task === "detect" ? await exportDetectionOnnx(loaded.model, loaded.graph, options) : await exportOnnx(loaded.model, loaded.graph, { ...options, task: "classify" });
    await writeFileAtomic(target, [bytes]);
    return target;
  } finally {
    loaded.model.dispose();
  }
}

/** The ONNX file that serves `spec`: the file itself, or its export (made now if it does not exist yet). */
export async function onnxFileFor(spec: ModelSpec): Promise<string> {
  if (spec.format === "onnx") return spec.file;
  const target = exportedOnnxPath(spec);
  if (await stat(target).catch(() => null)) return target;
  let pending = exporting.get(target);
  if (!pending) {
    pending = exportOnce(spec, target).finally(() => exporting.delete(target));
    exporting.set(target, pending);
  }
  return pending;
}
