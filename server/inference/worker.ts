// The inference thread: decodes, preprocesses and post-processes every request, so none of it blocks the web
// server's event loop. The sessions and their runs are in its runner thread (runner.ts), so the next
// requests' images are decoded and letterboxed here while a model runs there.

import { parentPort } from "node:worker_threads";
import { runPredict, type ModelRunner } from "./run";
import { RequestThread } from "./thread";
import { errorReply, type CacheStats, type RunnerRequest, type RunOutput, type SessionDescription, type WorkerReply, type WorkerRequest } from "./worker-protocol";

let runnerThread: RequestThread<RunnerRequest> | null = null;

function runner(): RequestThread<RunnerRequest> {
  if (!runnerThread || runnerThread.dead) runnerThread = new RequestThread<RunnerRequest>("runner.ts");
  return runnerThread;
}

const models: ModelRunner = {
  describe: (file) => runner().request<SessionDescription>({ type: "describe", file }),
  // The input tensor is handed over, not copied: it is not read here again.
  run: (file, input, dims) => runner().request<RunOutput>({ type: "run", file, input, dims }, [input.buffer as ArrayBuffer]),
};

const port = parentPort!;

port.on("message", (message: WorkerRequest) => {
  const answer = async (): Promise<WorkerReply> => {
    if (message.type === "stats") return { id: message.id, ok: true, result: await runner().request<CacheStats>({ type: "stats" }) };
    return { id: message.id, ok: true, result: await runPredict(models, message.request) };
  };
  answer()
    .catch((error: unknown) => errorReply(message.id, error))
    .then((reply) => port.postMessage(reply));
});
