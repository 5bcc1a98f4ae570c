// The web server's side of the inference thread: one thread per process, started on first use, started
// again on the next request if it dies (its requests fail with the reason).

import type { PredictRequest, RunResult } from "./run";
import { RequestThread } from "./thread";
import type { CacheStats, WorkerRequest } from "./worker-protocol";

let thread: RequestThread<WorkerRequest> | null = null;

function current(): RequestThread<WorkerRequest> {
  if (!thread || thread.dead) thread = new RequestThread<WorkerRequest>("worker.ts");
  return thread;
}

export function runInWorker(request: PredictRequest): Promise<RunResult> {
  return current().request<RunResult>({ type: "predict", request });
}

/** The runner's session cache, and the session.runs it made for how many images. */
export function workerCacheStats(): Promise<CacheStats> {
  return current().request<CacheStats>({ type: "stats" });
}

/** Stops the thread and its runner (tests, shutdown); the next request starts new ones. */
export async function closeInferenceWorker(): Promise<void> {
  const closing = thread;
  thread = null;
  await closing?.close();
}
