// Data-parallel training steps on ONNX Runtime: one session per core, each on one intra-op thread
// in a worker thread, each computing one share of the batch. On a 2-core host this beats one session
// on two threads (whose many small kernels leave a thread waiting for the other at every op). Only for
// graphs whose samples do not interact (no BatchNorm: its batch statistics would be per share).
import { createRequire } from "node:module";
import { pathToFileURL } from "node:url";
import { Worker } from "node:worker_threads";
import type { ort, OrtTarget } from "./session";
import type { WireTensor } from "./replica-worker";

const TSX_ESM_API = pathToFileURL(createRequire(import.meta.url).resolve("tsx/esm/api").replace(/\.cjs$/, ".mjs")).href;
const WORKER_ENTRY = new URL("./replica-worker.ts", import.meta.url).href;
const BOOTSTRAP = new URL(
  "data:text/javascript," + encodeURIComponent(`import { register } from ${JSON.stringify(TSX_ESM_API)}; register(); await import(${JSON.stringify(WORKER_ENTRY)});`),
);

export type ReplicaOutputs = Record<string, { data: Float32Array; dims: readonly number[] }>;

export class OrtReplicas {
  private constructor(private readonly workers: Worker[]) {}

  /** `count` workers, each with a session of `bytes` on one intra-op thread. */
  static start(count: number, bytes: Uint8Array, target: OrtTarget): OrtReplicas {
    const workers = Array.from({ length: count }, () => {
      const worker = new Worker(BOOTSTRAP, { workerData: { bytes, target: { ...target, threads: 1 } } });
      worker.unref();
      return worker;
    });
    return new OrtReplicas(workers);
  }

  get count(): number {
    return this.workers.length;
  }

  /** Runs replica `index` on `feeds` (copied when posted, so their buffers may be refilled at once). */
  run(index: number, feeds: Record<string, ort.Tensor>): Promise<ReplicaOutputs> {
    const worker = this.workers[index];
    const wire: Record<string, WireTensor> = {};
    for (const [name, tensor] of Object.entries(feeds)) wire[name] = { data: tensor.data as Float32Array, dims: [...tensor.dims] };
    return new Promise((resolve, reject) => {
      const onError = (error: Error) => reject(error);
      worker.once("error", onError);
      worker.once("message", (reply: { out?: ReplicaOutputs; error?: string }) => {
        worker.off("error", onError);
        if (reply.out) resolve(reply.out);
        else reject(new Error(`ONNX Runtime replica failed: ${reply.error}`));
      });
      worker.postMessage(wire);
    });
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((worker) => worker.terminate()));
  }
}
