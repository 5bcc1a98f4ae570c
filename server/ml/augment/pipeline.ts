import { z } from "zod";
import type { RgbImage } from "../data/image";
import { expandForeignOps, foreignOpName } from "./foreign";
import type { Box } from "./geometry";
import { augmentOpSchema, augmentOpSchemas, runOp, type AugmentOp } from "./ops";
import type { Rng } from "./rng";

/** A saved augmentation pipeline: a JSON list of `{op, p?, ...params}`, applied in order. */
export const augmentPipelineSchema = z.array(augmentOpSchema);
export type AugmentPipeline = z.output<typeof augmentPipelineSchema>;
export type AugmentPipelineInput = z.input<typeof augmentPipelineSchema>;

export interface PipelineIssue {
  /** Position of the op in the list; -1 when the pipeline itself is not a list. */
  index: number;
  /** Parameter at fault ("" for the whole op). */
  field: string;
  message: string;
}

export type PipelineValidation = { ok: true; pipeline: AugmentPipeline } | { ok: false; errors: PipelineIssue[] };

/** "pipeline[2].p: must be ≤ 1" */
export function formatPipelineIssue(issue: PipelineIssue): string {
  const where = issue.index < 0 ? "pipeline" : `pipeline[${issue.index}]${issue.field ? `.${issue.field}` : ""}`;
  return `${where}: ${issue.message}`;
}

export class AugmentPipelineError extends Error {
  constructor(public readonly issues: PipelineIssue[]) {
    super(`invalid augmentation pipeline: ${issues.map(formatPipelineIssue).join("; ")}`);
    this.name = "AugmentPipelineError";
  }
}

function issueFor(json: unknown[], issue: z.core.$ZodIssue): PipelineIssue[] {
  const [index, ...rest] = issue.path;
  if (typeof index !== "number") return [{ index: -1, field: "", message: issue.message }];
  const entry = json[index] as Record<string, unknown> | undefined;
  if (issue.code === "unrecognized_keys") {
    const opName = String(entry?.op);
    const schema = augmentOpSchemas[opName as keyof typeof augmentOpSchemas];
    const allowed = schema ? Object.keys(schema.shape).filter((k) => k !== "op") : [];
    return issue.keys.map((key) => ({ index, field: key, message: `unknown parameter for '${opName}' (allowed: ${allowed.join(", ")})` }));
  }
  const field = rest.map(String).join(".");
  if (issue.code === "invalid_union" && field === "op") {
    const given = foreignOpName(entry);
    const message = given === undefined ? `missing 'op'; ${issue.message.replace(/^unknown op; /, "")}` : `unknown op '${String(given)}'; ${issue.message.replace(/^unknown op; /, "")}`;
    return [{ index, field: "op", message }];
  }
  if (issue.code === "invalid_type" && rest.length === 0) return [{ index, field: "", message: "each op must be an object like {\"op\": \"hflip\"}" }];
  return [{ index, field, message: issue.message }];
}

/**
 * Parses a pipeline from JSON, filling defaults; Albumentations-style entries become our ops (see
 * foreign.ts). Errors name the position in the given list and the field.
 */
export function validatePipeline(json: unknown): PipelineValidation {
  if (!Array.isArray(json)) return { ok: false, errors: [{ index: -1, field: "", message: "must be a list of ops" }] };
  const { ops, origin } = expandForeignOps(json);
  const result = augmentPipelineSchema.safeParse(ops);
  if (result.success) return { ok: true, pipeline: result.data };
  return { ok: false, errors: result.error.issues.flatMap((issue) => issueFor(ops, issue)).map((e) => ({ ...e, index: e.index < 0 ? e.index : origin[e.index] })) };
}

/** Like validatePipeline but throws AugmentPipelineError. */
export function parsePipeline(json: unknown): AugmentPipeline {
  const result = validatePipeline(json);
  if (!result.ok) throw new AugmentPipelineError(result.errors);
  return result.pipeline;
}

/**
 * Applies each op with its probability. Every op draws from its own fork of `rng` (by position), so the
 * randomness an op sees does not shift when an earlier op is skipped, added or changed.
 */
export function applyPipeline(img: RgbImage, pipeline: AugmentPipeline, rng: Rng, boxes: Box[] = []): { img: RgbImage; boxes: Box[] } {
  let current = { img, boxes };
  pipeline.forEach((op: AugmentOp, position) => {
    const opRng = rng.fork(`${position}:${op.op}`);
    if (opRng.next() < op.p) current = runOp(op, current, opRng);
  });
  return current;
}

export interface OpDescription {
  op: string;
  description: string;
  /** JSON Schema of each parameter (type, bounds, default, description), `p` included. */
  params: Record<string, unknown>;
}

/** The op catalogue for the studio UI. */
export function describeOps(): OpDescription[] {
  return Object.entries(augmentOpSchemas).map(([op, schema]) => {
    const json = z.toJSONSchema(schema, { io: "input" }) as { properties?: Record<string, unknown> };
    const { op: _op, ...params } = json.properties ?? {};
    return { op, description: schema.description ?? "", params };
  });
}
