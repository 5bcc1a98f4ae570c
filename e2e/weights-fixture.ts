// The .pt the weights and inference browser tests upload: a full-size yolov8n checkpoint as Ultralytics
// writes it (its module names, 80 class names, imgsz), its values generated, written without PyTorch.

import { readFile } from "node:fs/promises";
import path from "node:path";
import { writeUltralyticsCheckpoint } from "../server/ml/io/testing/ultralytics-checkpoint";

export const FIXTURE_CLASSES = ["person", "bicycle", "car", ...Array.from({ length: 77 }, (_, i) => `thing${i + 3}`)];

export async function writeYolov8nCheckpoint(file: string): Promise<string> {
  const shapes: Record<string, number[]> = JSON.parse(await readFile(path.resolve(import.meta.dirname, "../server/ml/io/fixtures/yolov8n_state_dict_shapes.json"), "utf8"));
  // A small input keeps the export and its parity check quick; the weights are the real network's.
  await writeUltralyticsCheckpoint(file, { tensors: shapes, names: FIXTURE_CLASSES, yamlFile: "yolov8n.yaml", imgsz: 128 });
  return file;
}
