import { z } from "zod";
import { parseInput } from "@/server/errors";
import { EXPORT_FORMATS, type ExportWeightsInput } from "@/server/weights/export";
import type { WeightsRow } from "@/server/weights/queries";
import type { ValidateWeightsInput, ValidationRow } from "@/server/weights/validate";

/** Seed 000 §3 (export_model, validate_model) and §6.2 (export_formats): bodies in, the document's shapes out. */

export const validateBody = z.object({
  imgsz: z.number().int().optional(),
  batch: z.number().int().optional(),
  conf: z.number().optional(),
  iou: z.number().optional(),
  device: z.string().optional(),
  save_json: z.boolean().optional(),
  plots: z.boolean().optional(),
  split: z.enum(["val", "test"]).optional(),
  dataset_id: z.number().int().optional(),
});

export function parseTrainingModuleValidate(body: unknown): Omit<ValidateWeightsInput, "experimentId" | "weightsId"> {
  const input = parseInput(validateBody, body ?? {});
  return { imgsz: input.imgsz, batch: input.batch, conf: input.conf, iou: input.iou, device: input.device, saveJson: input.save_json, plots: input.plots, split: input.split, datasetId: input.dataset_id };
}

export const exportBody = z.object({
  format: z.string().optional(),
  half: z.boolean().optional(),
  int8: z.boolean().optional(),
  dynamic: z.boolean().optional(),
  simplify: z.boolean().optional(),
  opset: z.number().int().optional(),
  batch: z.number().int().optional(),
  imgsz: z.number().int().optional(),
});

export function parseTrainingModuleExport(body: unknown): Omit<ExportWeightsInput, "experimentId" | "weightsId"> {
  return parseInput(exportBody, body ?? {});
}

/** `data` of validate_model: Ultralytics' names (`mAP50-95`), per-class AP50 by class name, results relative to the storage root. */
export function trainingModuleValidation(row: ValidationRow) {
  const m = row.metrics ?? {};
  const value = (key: string) => (typeof m[key] === "number" ? m[key] : null);
  const perClass = (row.details?.perClass ?? null) as { ap50: number | null }[] | null;
  const recall = (row.details?.recall ?? null) as number[] | null;
  const precision = (row.details?.precision ?? null) as number[] | null;
  const classMetrics = Object.fromEntries(
    row.classNames.map((name, c) => [name, perClass ? { AP50: perClass[c]?.ap50 ?? null } : { precision: precision?.[c] ?? null, recall: recall?.[c] ?? null }]),
  );
  return {
    metrics: {
      mAP50: value("mAP50"),
      "mAP50-95": value("mAP50_95"),
      precision: value("precision"),
      recall: value("recall"),
      f1_score: row.task === "detect" ? value("f1") : value("macro_f1"),
      ...(row.task === "classify" && { accuracy: value("top1_acc") }),
      class_metrics: classMetrics,
    },
    results_path: row.resultsDir,
  };
}

/** `data` of export_model: the child entry's stored file (relative to the storage root) and the format's description. */
export function trainingModuleExport(entry: Pick<WeightsRow, "file" | "format" | "bytes">) {
  const format = EXPORT_FORMATS[entry.format as "onnx" | "tfjs"];
  return {
    export_path: entry.file,
    format: entry.format,
    file_size_mb: Math.round((entry.bytes / (1024 * 1024)) * 100) / 100,
    description: `${format.name} - ${entry.format === "onnx" ? "跨平台推理格式" : format.description}`,
  };
}

/** `formats` of export_formats: every format the document lists, with whether this studio writes it. */
export function trainingModuleExportFormats() {
  return Object.fromEntries(
    Object.entries(EXPORT_FORMATS).map(([key, f]) => [key, { name: f.name, description: f.available ? f.description : `${f.description}（本服务不支持）`, extension: f.extension, recommended: f.recommended, available: f.available }]),
  );
}
