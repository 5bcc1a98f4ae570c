// The inference worker thread: holds the session cache and runs every request, so decoding, ONNX Runtime's
// run (synchronous in onnxruntime-node) and NMS never block the web server's event loop.

import { parentPort } from "node:worker_threads";
import { runPredict } from "./run";
import { SessionCache } from "./sessions";
import { errorReply, type WorkerReply, type WorkerRequest } from "./worker-protocol";

const MAX_SESSIONS = 8;
const MAX_SESSION_BYTES = 2 * 1024 ** 3;

const cache = new SessionCache(MAX_SESSIONS, MAX_SESSION_BYTES);
const port = parentPort!;

port.on("message", (message: WorkerRequest) => {
  const answer = async (): Promise<WorkerReply> => {
    if (message.type === "stats") return { id: message.id, ok: true, result: { sessions: cache.size, bytes: cache.bytes, files: cache.files() } };
    return { id: message.id, ok: true, result: await runPredict(cache, message.request) };
  };
  answer()
    .catch((error: unknown) => errorReply(message.id, error))
    .then((reply) => port.postMessage(reply));
});
