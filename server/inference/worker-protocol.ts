import { DomainError, Invalid, NotFound, TooLarge } from "@/server/errors";
import type { PredictRequest, RunResult } from "./run";

export type WorkerRequest = { id: number; type: "predict"; request: PredictRequest } | { id: number; type: "stats" };

export interface CacheStats {
  sessions: number;
  bytes: number;
  files: string[];
}

export type WorkerReply =
  | { id: number; ok: true; result: RunResult | CacheStats }
  | { id: number; ok: false; error: { kind: "invalid" | "too_large" | "not_found" | "internal"; message: string; fields?: Record<string, string[]> } };

/** Domain errors keep their kind across the thread boundary; anything else is an internal error. */
export function errorReply(id: number, error: unknown): WorkerReply {
  const kind = error instanceof TooLarge ? "too_large" : error instanceof NotFound ? "not_found" : error instanceof Invalid ? "invalid" : "internal";
  const domain = error instanceof DomainError ? error : null;
  return { id, ok: false, error: { kind, message: error instanceof Error ? error.message : String(error), fields: domain?.fields } };
}

export function errorFromReply(error: Extract<WorkerReply, { ok: false }>["error"]): Error {
  if (error.kind === "too_large") return new TooLarge(error.message, error.fields);
  if (error.kind === "not_found") return new NotFound(error.message, error.fields);
  if (error.kind === "invalid") return new Invalid(error.message, error.fields);
  return new Error(`inference worker: ${error.message}`);
}
