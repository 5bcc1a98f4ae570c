// A worker thread of this folder asked questions by id: the web server's side of the inference thread, and
// the inference thread's side of its runner. A thread that dies fails its questions with the reason; the
// owner starts a new one on the next question.

import { createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { Worker, type Transferable } from "node:worker_threads";
import { errorFromReply, type ThreadReply } from "./worker-protocol";

// Found beside this module, whatever the working directory. Next.js bundles route handlers, but its
// import.meta.url still names this source file (import.meta.dirname it leaves undefined); a literal
// `new URL("./worker.ts", import.meta.url)` it would copy out as an asset without the modules it imports.
const HERE = path.dirname(fileURLToPath(import.meta.url));

function bootstrapUrl(script: string): URL {
  const tsxApi = pathToFileURL(createRequire(path.join(HERE, "thread.ts")).resolve("tsx/esm/api").replace(/\.cjs$/, ".mjs")).href;
  const entry = pathToFileURL(path.join(HERE, script)).href;
  // The repository's tsconfig (its `@/` paths), which tsx would otherwise look for in the working directory.
  const tsconfig = path.resolve(HERE, "../../tsconfig.json");
  return new URL(
    "data:text/javascript," + encodeURIComponent(`import { register } from ${JSON.stringify(tsxApi)}; register({ tsconfig: ${JSON.stringify(tsconfig)} }); await import(${JSON.stringify(entry)});`),
  );
}

type Pending = { resolve(value: unknown): void; reject(error: Error): void };
type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

export class RequestThread<Request extends { id: number }> {
  private readonly worker: Worker;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  dead = false;

  /** `script`: a file of this folder that answers every message with a ThreadReply of the same id. */
  constructor(script: string) {
    this.worker = new Worker(bootstrapUrl(script));
    this.worker.unref();
    this.worker.on("message", (reply: ThreadReply<unknown>) => {
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
    this.worker.on("exit", (code) => fail(new Error(`the inference thread ${script} exited with code ${code}`)));
  }

  /** `transfer`: buffers handed over instead of copied (unusable here afterwards). */
  request<T>(message: DistributiveOmit<Request, "id">, transfer: Transferable[] = []): Promise<T> {
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (value: unknown) => void, reject });
      this.worker.postMessage({ ...message, id }, transfer);
    });
  }

  async close(): Promise<void> {
    this.dead = true;
    await this.worker.terminate();
  }
}
