import type * as ort from "onnxruntime-node";
import { DomainError, Invalid, NotFound, TooLarge } from "@/server/errors";
import type { OnnxInfo } from "@/server/ml/io/onnx-info";
import type { PredictRequest, RunResult } from "./run";
import type { Provider } from "./sessions";

/** The web server to the inference thread (decode, preprocessing, NMS). */
export type WorkerRequest = { id: number; type: "predict"; request: PredictRequest } | { id: number; type: "stats" };

/** The inference thread to its runner thread (the sessions and their runs). */
export type RunnerRequest =
  | { id: number; type: "describe"; file: string }
  | { id: number; type: "run"; file: string; input: Float32Array; dims: number[] }
  | { id: number; type: "stats" };

/** What preprocessing and postprocessing need to know of an open session. */
export interface SessionDescription {
  provider: Provider;
  input: ort.InferenceSession.ValueMetadata | undefined;
  info: OnnxInfo;
}

/** The first output of one session.run, and how long the run that computed it took for how many images. */
export interface RunOutput {
  type: string;
  dims: number[];
  /** Empty when the output is not float32 (no model the studio serves). */
  data: Float32Array;
  runMs: number;
  /** Images in that run: this request's, and those of requests coalesced with it. */
  runImages: number;
}

export interface CacheStats {
  sessions: number;
  bytes: number;
  files: string[];
  /** session.run calls since the thread started, and the images they carried. */
  runs: number;
  images: number;
}

type ErrorKind = "invalid" | "too_large" | "not_found" | "internal";

export type ThreadReply<T> = { id: number; ok: true; result: T } | { id: number; ok: false; error: { kind: ErrorKind; message: string; fields?: Record<string, string[]> } };

export type WorkerReply = ThreadReply<RunResult | CacheStats>;

/** Domain errors keep their kind across the thread boundary; anything else is an internal error. */
export function errorReply(id: number, error: unknown): ThreadReply<never> {
  const kind = error instanceof TooLarge ? "too_large" : error instanceof NotFound ? "not_found" : error instanceof Invalid ? "invalid" : "internal";
  const domain = error instanceof DomainError ? error : null;
  return { id, ok: false, error: { kind, message: error instanceof Error ? error.message : String(error), fields: domain?.fields } };
}

export function errorFromReply(error: Extract<ThreadReply<unknown>, { ok: false }>["error"]): Error {
  if (error.kind === "too_large") return new TooLarge(error.message, error.fields);
  if (error.kind === "not_found") return new NotFound(error.message, error.fields);
  if (error.kind === "invalid") return new Invalid(error.message, error.fields);
  return new Error(`inference worker: ${error.message}`);
}
