// ONNX Runtime sessions for training graphs: the options the spike measured (full graph
// optimisation, memory arena and patterns on, sequential execution, intra-op threads = cores), and
// the execution provider of the device: CPU, or CUDA when onnxruntime-node's CUDA provider is installed.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { createRequire } from "node:module";
import * as ort from "onnxruntime-node";

export type OrtExecutionProvider = "cpu" | "cuda";

export interface OrtTarget {
  provider: OrtExecutionProvider;
  /** CUDA device index. */
  deviceId: number;
  /** Intra-op threads (CPU provider); default: every core. */
  threads?: number;
  graphOptimizationLevel?: "extended" | "all";
}

export const GPU_EXTRAS_INSTALL = "npm install --onnxruntime-node-install=cuda12";

export class OrtUnavailableError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "OrtUnavailableError";
  }
}

const requireFromHere = createRequire(import.meta.url);

/** The folder holding onnxruntime-node's native binding (where its CUDA provider libraries go). */
export function ortBindingFolder(): string | null {
  try {
    const root = path.dirname(requireFromHere.resolve("onnxruntime-node/package.json"));
    const folder = path.join(root, "bin", "napi-v6", process.platform, process.arch);
    return fs.existsSync(folder) ? folder : null;
  } catch {
    return null;
  }
}

export function ortVersion(): string {
  return ort.env.versions?.node ?? ort.env.versions?.common ?? "unknown";
}

const CUDA_PROVIDER_FILES: Record<string, string[]> = {
  linux: ["libonnxruntime_providers_shared.so", "libonnxruntime_providers_cuda.so"],
  win32: ["onnxruntime_providers_shared.dll", "onnxruntime_providers_cuda.dll"],
};

/**
 * Why onnxruntime-node cannot use the CUDA provider here, or null when its libraries are installed
 * (whether a GPU and driver are present only a session can tell; see probeOrtTarget).
 */
export function cudaProviderMissing(): string | null {
  const files = CUDA_PROVIDER_FILES[process.platform];
  if (!files || process.arch !== "x64") return `onnxruntime-node has no CUDA execution provider for ${process.platform}/${process.arch}`;
  if (!ort.listSupportedBackends().some((b) => b.name === "cuda")) return "this onnxruntime-node build has no CUDA execution provider";
  const folder = ortBindingFolder();
  if (!folder) return "onnxruntime-node's native binding folder was not found";
  const missing = files.filter((file) => !fs.existsSync(path.join(folder, file)));
  if (missing.length > 0) {
    return `ONNX Runtime's CUDA execution provider is not installed (${missing.join(", ")} missing in ${folder}); install the GPU extras (README, "GPU extras"): ${GPU_EXTRAS_INSTALL}`;
  }
  return null;
}

export function sessionOptions(target: OrtTarget): ort.InferenceSession.SessionOptions {
  const providers: ort.InferenceSession.ExecutionProviderConfig[] =
    target.provider === "cuda" ? [{ name: "cuda", deviceId: target.deviceId }, "cpu"] : ["cpu"];
  return {
    executionProviders: providers,
    graphOptimizationLevel: target.graphOptimizationLevel ?? "all",
    intraOpNumThreads: target.threads ?? os.availableParallelism(),
    interOpNumThreads: 1,
    executionMode: "sequential",
    enableCpuMemArena: true,
    enableMemPattern: true,
    logSeverityLevel: 3,
  };
}

export async function createOrtSession(bytes: Uint8Array, target: OrtTarget): Promise<ort.InferenceSession> {
  if (target.provider === "cuda") {
    const missing = cudaProviderMissing();
    if (missing) throw new OrtUnavailableError(missing);
  }
  try {
    return await ort.InferenceSession.create(bytes, sessionOptions(target));
  } catch (error) {
    const reason = (error instanceof Error ? error.message : String(error)).replace(/\u001b\[[0-9;]*m/g, "").trim();
    if (target.provider === "cuda") {
      throw new OrtUnavailableError(`ONNX Runtime could not start its CUDA execution provider on GPU ${target.deviceId}: ${reason}`);
    }
    throw new Error(`ONNX Runtime rejected the training graph: ${reason}`);
  }
}

export { ort };
