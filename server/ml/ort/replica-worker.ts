// A worker thread holding one ONNX Runtime session of a training graph on one intra-op thread:
// the data-parallel half of a batch (replicas.ts). Feeds arrive as arrays, outputs go back transferred.
import { parentPort, workerData } from "node:worker_threads";
import { createOrtSession, ort, type OrtTarget } from "./session";

interface Init {
  bytes: Uint8Array;
  target: OrtTarget;
}

export type WireTensor = { data: Float32Array; dims: number[] };

const { bytes, target } = workerData as Init;
const port = parentPort!;
const session = createOrtSession(bytes, target);

port.on("message", async (feeds: Record<string, WireTensor>) => {
  try {
    const inputs = Object.fromEntries(Object.entries(feeds).map(([name, t]) => [name, new ort.Tensor("float32", t.data, t.dims)]));
    const out = await (await session).run(inputs);
    const wire: Record<string, WireTensor> = {};
    for (const [name, tensor] of Object.entries(out)) wire[name] = { data: tensor.data as Float32Array, dims: [...tensor.dims] };
    port.postMessage({ out: wire }, Object.values(wire).map((t) => t.data.buffer as ArrayBuffer));
  } catch (error) {
    port.postMessage({ error: error instanceof Error ? error.message : String(error) });
  }
});
