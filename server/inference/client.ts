// The web server's side of the inference worker thread: one thread per process, started on first use,
// started again on the next request if it dies (its requests fail with the reason).

import { createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { Worker } from "node:worker_threads";
import type { PredictRequest, RunResult } from "./run";
import { errorFromReply, type CacheStats, type WorkerReply, type WorkerRequest } from "./worker-protocol";

// Found beside this module, whatever the working directory. Next.js bundles route handlers, but its
// import.meta.url still names this source file (import.meta.dirname it leaves undefined); a literal
// `new URL("./worker.ts", import.meta.url)` it would copy out as an asset without the modules it imports.
const HERE = path.dirname(fileURLToPath(import.meta.url));

function bootstrapUrl(): URL {
  const tsxApi = pathToFileURL(createRequire(path.join(HERE, "client.ts")).resolve("tsx/esm/api").replace(/\.cjs$/, ".mjs")).href;
  const entry = pathToFileURL(path.join(HERE, "worker.ts")).href;
  // The repository's tsconfig (its `@/` paths), which tsx would otherwise look for in the working directory.
  const tsconfig = path.resolve(HERE, "../../tsconfig.json");
  return new URL(
    "data:text/javascript," + encodeURIComponent(`import { register } from ${JSON.stringify(tsxApi)}; register({ tsconfig: ${JSON.stringify(tsconfig)} }); await import(${JSON.stringify(entry)});`),
  );
}

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;
type Pending = { resolve(value: unknown): void; reject(error: Error): void };

class InferenceThread {
  private readonly worker: Worker;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  dead = false;

  constructor() {
    this.worker = new Worker(bootstrapUrl());
    this.worker.unref();
    this.worker.on("message", (reply: WorkerReply) => {
      const waiting = this.pending.get(reply.id);
      if (!waiting) return;
      this.pending.delete(reply.id);
      if (reply.ok) waiting.resolve(reply.result);
      else waiting.reject(errorFromReply(reply.error));
    });
    const fail = (error: Error) => {
      this.dead = true;
      for (const waiting of this.pending.values()) waiting.reject(error);
      this.pending.clear();
    };
    this.worker.on("error", fail);
    this.worker.on("exit", (code) => fail(new Error(`the inference worker exited with code ${code}`)));
  }

  request<T>(message: DistributiveOmit<WorkerRequest, "id">): Promise<T> {
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (value: unknown) => void, reject });
      this.worker.postMessage({ ...message, id });
    });
  }

  async close(): Promise<void> {
    this.dead = true;
    await this.worker.terminate();
  }
}

let thread: InferenceThread | null = null;

function current(): InferenceThread {
  if (!thread || thread.dead) thread = new InferenceThread();
  return thread;
}

export function runInWorker(request: PredictRequest): Promise<RunResult> {
  return current().request<RunResult>({ type: "predict", request });
}

export function workerCacheStats(): Promise<CacheStats> {
  return current().request<CacheStats>({ type: "stats" });
}

/** Stops the thread (tests, shutdown); the next request starts a new one. */
export async function closeInferenceWorker(): Promise<void> {
  const closing = thread;
  thread = null;
  await closing?.close();
}
