// ONNX Runtime sessions kept open between requests: least recently used out, bounded by count and by the
// bytes of the files they hold (one evicted while a run uses it is released when that run ends). CUDA where onnxruntime-node's GPU build can load it, else the CPU.

import { readdirSync } from "node:fs";
import { stat } from "node:fs/promises";
import { createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath } from "node:url";
import * as ort from "onnxruntime-node";
import { Invalid } from "@/server/errors";
import { readOnnxInfo, type OnnxInfo } from "@/server/ml/io/onnx-info";

export type Provider = "cuda" | "cpu";

export interface CachedSession {
  session: ort.InferenceSession;
  provider: Provider;
  info: OnnxInfo;
  bytes: number;
  /** Runs and questions using the session now. */
  users: number;
  /** Out of the cache while in use: released when its last user is done. */
  evicted: boolean;
}

/** The CPU sessions' options (ONNX Runtime's defaults: an intra-op thread per physical core); the bench's bare session takes the same. */
export const CPU_SESSION_OPTIONS: ort.InferenceSession.SessionOptions = { executionProviders: ["cpu"] };

let cudaUnavailable = false;
let cudaPresent: boolean | undefined;

/** The GPU build ships the CUDA provider library beside the binding; the CPU build only lists it. */
export function cudaBuildPresent(): boolean {
  if (!ort.listSupportedBackends().some((backend) => backend.name === "cuda")) return false;
  const binding = path.join(path.dirname(createRequire(fileURLToPath(import.meta.url)).resolve("onnxruntime-node")), "..", "bin");
  return readdirSync(binding, { recursive: true }).some((name) => String(name).endsWith(`${process.platform}/${process.arch}/libonnxruntime_providers_cuda.so`));
}

/** CUDA first when the build lists it; a failure to load it (no GPU, no CUDA libraries) means CPU from then on. */
async function openSession(file: string): Promise<{ session: ort.InferenceSession; provider: Provider }> {
  if (!cudaUnavailable && (cudaPresent ??= cudaBuildPresent())) {
    try {
      return { session: await ort.InferenceSession.create(file, { executionProviders: ["cuda"] }), provider: "cuda" };
    } catch {
      cudaUnavailable = true;
    }
  }
  try {
    return { session: await ort.InferenceSession.create(file, CPU_SESSION_OPTIONS), provider: "cpu" };
  } catch (error) {
    throw new Invalid(`ONNX Runtime cannot load the model: ${(error as Error).message.split("\n")[0]}`, { model: ["not loadable"] });
  }
}

export class SessionCache {
  private readonly entries = new Map<string, CachedSession>();
  private readonly opening = new Map<string, Promise<CachedSession>>();

  constructor(
    readonly maxSessions: number,
    readonly maxBytes: number,
  ) {}

  get size(): number {
    return this.entries.size;
  }

  get bytes(): number {
    let total = 0;
    for (const entry of this.entries.values()) total += entry.bytes;
    return total;
  }

  /** The files of the open sessions, oldest first. */
  files(): string[] {
    return [...this.entries.keys()];
  }

  /** The open session of `file`, opening it (once, however many ask at the same time) when it is not. */
  async get(file: string): Promise<CachedSession> {
    const cached = this.entries.get(file);
    if (cached) {
      // Map order is the recency order: re-inserting makes it the newest.
      this.entries.delete(file);
      this.entries.set(file, cached);
      return cached;
    }
    let pending = this.opening.get(file);
    if (!pending) {
      pending = this.open(file).finally(() => this.opening.delete(file));
      this.opening.set(file, pending);
    }
    return pending;
  }

  /** `use` with the open session of `file`, which stays open until `use` is done even if evicted meanwhile. */
  async use<T>(file: string, use: (entry: CachedSession) => Promise<T>): Promise<T> {
    const entry = await this.get(file);
    // Evicted (and so released) between its opening and now by another file's opening: open it again.
    if (this.entries.get(file) !== entry) return this.use(file, use);
    entry.users++;
    try {
      return await use(entry);
    } finally {
      entry.users--;
      if (entry.evicted && entry.users === 0) await entry.session.release();
    }
  }

  private async open(file: string): Promise<CachedSession> {
    const [{ session, provider }, info, { size }] = await Promise.all([openSession(file), readOnnxInfo(file), stat(file)]);
    const entry: CachedSession = { session, provider, info, bytes: size, users: 0, evicted: false };
    this.entries.set(file, entry);
    await this.evict(file);
    return entry;
  }

  /** Closes the oldest sessions until both bounds hold (never the one just opened). */
  private async evict(keep: string): Promise<void> {
    for (const [file, entry] of this.entries) {
      if (this.entries.size <= this.maxSessions && this.bytes <= this.maxBytes) return;
      if (file === keep) continue;
      this.entries.delete(file);
      await this.retire(entry);
    }
  }

  private async retire(entry: CachedSession): Promise<void> {
    if (entry.users > 0) entry.evicted = true;
    else await entry.session.release();
  }

  async clear(): Promise<void> {
    const entries = [...this.entries.values()];
    this.entries.clear();
    await Promise.all(entries.map((entry) => this.retire(entry)));
  }
}
