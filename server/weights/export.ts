import { z } from "zod";
import { weights } from "@/db/schema";
import { type Ctx, requireRole } from "@/server/context";
import { Conflict, Invalid, parseInput, Unavailable, type FieldErrors } from "@/server/errors";
import { recordId } from "@/server/http/input";
import { enqueue, type QueueDeps } from "@/server/jobs/enqueue";
import { SUPPORTED_OPSETS } from "@/server/ml/export/onnx-graph";
import { getWeights, type WeightsView } from "./queries";
import { saveExperimentWeights } from "./save-experiment";
import { validationDevice } from "./validate";

/** What the studio writes, and what it knows of but cannot write (listed so old clients see why). */
export const EXPORT_FORMATS = {
  onnx: { name: "ONNX", description: "跨平台推理格式，广泛支持", extension: ".onnx", recommended: true, available: true },
  tfjs: { name: "TensorFlow.js", description: "浏览器与 Node.js 推理格式", extension: ".zip", recommended: false, available: true },
  torchscript: { name: "TorchScript", description: "PyTorch优化格式，高性能", extension: ".torchscript", recommended: false, available: false },
} as const;
export const exportFormats = ["onnx", "tfjs"] as const;
export type ExportFormat = (typeof exportFormats)[number];

/** Ultralytics' export arguments. */
export const exportWeightsInput = z.object({
  weightsId: recordId.optional(),
  experimentId: recordId.optional(),
  format: z.string().trim().toLowerCase().default("onnx"),
  opset: z.number().int().default(17),
  half: z.boolean().default(false),
  int8: z.boolean().default(false),
  dynamic: z.boolean().default(false),
  /** Our exporter writes folded graphs already (BatchNorm into Conv, no dead nodes); kept for Ultralytics' clients. */
  simplify: z.boolean().default(true),
  batch: z.number().int().min(1).max(256).default(1),
  /** Default: the source's own input size. */
  imgsz: z.number().int().min(8).max(2048).optional(),
  /** The dataset the parity report validates on (default: the one the source was trained on). */
  datasetId: recordId.optional(),
  device: validationDevice,
  name: z.string().trim().min(1).max(200).optional(),
});
export type ExportWeightsInput = z.input<typeof exportWeightsInput>;

/** What the export job is asked to do, kept on the child entry (`details.export`). */
export interface ExportOptions {
  format: ExportFormat;
  opset: number;
  half: boolean;
  int8: boolean;
  dynamic: boolean;
  simplify: boolean;
  batch: number;
  imgsz: number;
  datasetId: number | null;
  device: string;
}

/** Every combination that cannot work, by field; empty when the export can run. */
function exportRefusals(source: Pick<WeightsView, "format" | "task" | "classNames" | "details">, options: Omit<ExportOptions, "format"> & { format: string }): FieldErrors {
  const refusals: FieldErrors = {};
  const refuse = (field: string, reason: string) => (refusals[field] ??= []).push(reason);
  if (!(exportFormats as readonly string[]).includes(options.format)) {
    refuse("format", `"${options.format}" cannot be written here; supported formats: ${exportFormats.join(", ")}`);
  }
  if (source.format === "onnx" || source.format === "tfjs") refuse("weightsId", `${source.format} weights cannot be exported again: export from the checkpoint they came from`);
  if (source.task !== "classify" && source.task !== "detect") refuse("weightsId", `task ${source.task ?? "unknown"} is not exported; supported tasks: classify, detect`);
  if (source.format === "ckpt" && options.format === "onnx" && source.details.graph === false) refuse("format", "the checkpoint has no model graph, which ONNX export needs; use tfjs");
  if (options.format === "onnx" && !SUPPORTED_OPSETS.includes(options.opset)) refuse("opset", `${options.opset} is not supported; supported opsets: ${SUPPORTED_OPSETS.join(", ")}`);
  if (options.half && options.int8) refuse("int8", "choose either half or int8");
  if (options.format === "tfjs") {
    if (options.half) refuse("half", "tfjs export writes fp32 weights only");
    if (options.int8) refuse("int8", "tfjs export writes fp32 weights only");
  }
  if (options.format === "onnx" && options.int8 && options.opset < 13) refuse("int8", "int8 weights need opset 13 or later (per-channel DequantizeLinear)");
  if (options.dynamic && options.batch > 1) refuse("batch", "a dynamic batch takes any size; give batch only for a fixed one");
  if (source.task === "detect" && options.imgsz % 32 !== 0) refuse("imgsz", `${options.imgsz} is not a multiple of 32, which detection needs`);
  return refusals;
}

/**
 * Pre-flight (every refusal names its field), then a child entry in `processing` whose file the export
 * job writes, with its parity report; answers the child. An experiment is first saved into the library
 * (its best checkpoint), so the export has a parent.
 */
export async function exportWeights(ctx: Ctx, rawInput: ExportWeightsInput, deps: QueueDeps = {}): Promise<WeightsView> {
  requireRole(ctx, "member");
  const input = parseInput(exportWeightsInput, rawInput);
  if ((input.weightsId === undefined) === (input.experimentId === undefined)) {
    throw new Invalid("Name exactly one of weightsId and experimentId", { weightsId: ["exactly one of weightsId, experimentId"] });
  }
  const source = input.weightsId !== undefined ? await getWeights(ctx, input.weightsId) : await saveExperimentWeights(ctx, input.experimentId!, { which: "best" });
  if (source.status !== "ready") throw new Conflict(`Weights ${source.id} are ${source.status}: there is no file to export`, { weightsId: [source.status] });
  const options: Omit<ExportOptions, "format"> & { format: string } = {
    format: input.format,
    opset: input.opset,
    half: input.half,
    int8: input.int8,
    dynamic: input.dynamic,
    simplify: input.simplify,
    batch: input.batch,
    imgsz: input.imgsz ?? source.imgsz?.[0] ?? (source.task === "detect" ? 640 : 224),
    datasetId: input.datasetId ?? source.datasetId,
    device: input.device,
  };
  const refusals = exportRefusals(source, options);
  if (Object.keys(refusals).length > 0) {
    const summary = Object.entries(refusals).map(([field, reasons]) => `${field}: ${reasons.join("; ")}`).join(" · ");
    throw new Invalid(`This export cannot work: ${summary}`, refusals);
  }
  const format = options.format as ExportFormat;
  const precision = options.half ? "-fp16" : options.int8 ? "-int8" : "";
  const id = await ctx.db.transaction(async (tx) => {
    const [child] = await tx
      .insert(weights)
      .values({
        projectId: source.projectId,
        name: input.name ?? `${source.name}-${format}${precision}`,
        description: `Exported from ${source.name} (weights ${source.id})`,
        format,
        task: source.task,
        classNames: source.classNames,
        imgsz: [options.imgsz, options.imgsz],
        // The job fills in the file once it is written.
        file: "",
        bytes: 0,
        sha256: "",
        details: { export: { ...options, format } },
        tags: ["export"],
        status: "processing",
        sourceExperimentId: source.sourceExperimentId,
        sourceEpoch: source.sourceEpoch,
        datasetId: source.datasetId,
        datasetSplit: source.datasetSplit,
        model: source.model,
        architectureId: source.architectureId,
        parentId: source.id,
        createdBy: ctx.caller.userId,
      })
      .returning({ id: weights.id });
    await enqueue("weights.export", { weightsId: child.id }, { tx, boss: deps.boss });
    return child.id;
  });
  return getWeights(ctx, id);
}

/** Waits for an export's child entry to leave `processing`. */
export async function waitForExport(ctx: Ctx, id: number, timeoutMs: number, pollMs = 500): Promise<WeightsView> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const entry = await getWeights(ctx, id);
    if (entry.status !== "processing") return entry;
    if (Date.now() > deadline) throw new Unavailable(`Export ${id} is still running after ${Math.round(timeoutMs / 1000)} s (is a worker running?); it goes on, and the Weights page shows it when done`);
    await new Promise((resolve) => setTimeout(resolve, pollMs));
  }
}
