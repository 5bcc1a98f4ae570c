// The runner thread, started by the inference thread: the session cache and every session.run. onnxruntime-
// node's run holds the thread that calls it, so here it holds no one else: the inference thread goes on
// decoding and letterboxing the next requests meanwhile, and those that are ready when a run ends are
// coalesced into the next one (run-queue.ts).

import { parentPort, type Transferable } from "node:worker_threads";
import * as ort from "onnxruntime-node";
import { Invalid } from "@/server/errors";
import { RunQueue, type RunCounts } from "./run-queue";
import { SessionCache, type CachedSession } from "./sessions";
import { errorReply, type CacheStats, type RunnerRequest, type RunOutput, type SessionDescription } from "./worker-protocol";

const MAX_SESSIONS = 8;
const MAX_SESSION_BYTES = 2 * 1024 ** 3;

const cache = new SessionCache(MAX_SESSIONS, MAX_SESSION_BYTES);
const counts: RunCounts = { runs: 0, images: 0 };
const queues = new WeakMap<CachedSession, RunQueue>();
const port = parentPort!;

async function runSession({ session }: CachedSession, input: Float32Array, dims: number[]): Promise<Pick<RunOutput, "type" | "dims" | "data">> {
  let results: ort.InferenceSession.OnnxValueMapType;
  try {
    results = await session.run({ [session.inputNames[0]]: new ort.Tensor("float32", input, dims) });
  } catch (error) {
    throw new Invalid(`the model cannot take a ${dims[2]}x${dims[3]} input: ${(error as Error).message.split("\n")[0]}`, { imgsz: ["not accepted by the model"] });
  }
  const output = results[session.outputNames[0]] as ort.Tensor;
  const data = output.type === "float32" ? (output.data as Float32Array) : new Float32Array(0);
  // Its own buffer, so that it can be handed over to the inference thread rather than copied.
  const owned = data.byteOffset === 0 && data.byteLength === data.buffer.byteLength ? data : data.slice();
  return { type: output.type, dims: [...output.dims], data: owned };
}

/** One queue per open session; requests coalesce only when the model's batch dimension is free. */
function queueOf(entry: CachedSession): RunQueue {
  let queue = queues.get(entry);
  if (!queue) {
    const input = entry.session.inputMetadata[0];
    const anyBatch = input?.isTensor === true && typeof input.shape[0] !== "number";
    queue = new RunQueue((data, dims) => runSession(entry, data, dims), anyBatch, counts);
    queues.set(entry, queue);
  }
  return queue;
}

function describe(entry: CachedSession): SessionDescription {
  return { provider: entry.provider, input: entry.session.inputMetadata[0], info: entry.info };
}

port.on("message", (message: RunnerRequest) => {
  const answer = async (): Promise<{ result: SessionDescription | RunOutput | CacheStats; transfer: Transferable[] }> => {
    if (message.type === "stats") return { result: { sessions: cache.size, bytes: cache.bytes, files: cache.files(), ...counts }, transfer: [] };
    if (message.type === "describe") return { result: await cache.use(message.file, async (entry) => describe(entry)), transfer: [] };
    const output = await cache.use(message.file, (entry) => queueOf(entry).submit(message.input, message.dims));
    return { result: output, transfer: [output.data.buffer as ArrayBuffer] };
  };
  answer().then(
    ({ result, transfer }) => port.postMessage({ id: message.id, ok: true, result }, transfer),
    (error: unknown) => port.postMessage(errorReply(message.id, error)),
  );
});
