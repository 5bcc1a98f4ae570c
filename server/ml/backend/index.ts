// Device selection for training. A table of engines, fastest first, each with what it can do
// (capability flags the stepper reads instead of asking which backend it is): TF.js backends
// (libtensorflow with CUDA or on CPU, WASM and plain CPU with the gradient kernels they lack
// registered by us) and ONNX Runtime (`ort`, server/ml/ort/), which runs training graphs with a
// TF.js backend beside it for everything else. `auto` takes the first engine present.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { createRequire } from "node:module";
import * as tf from "@tensorflow/tfjs";
import { cudaProviderMissing, ortVersion } from "../ort/session";
import { registerGradientKernels } from "./kernels";

export type OrtDevice = "ort" | "ort:cpu" | `ort:cuda:${number}`;
export type Device = "auto" | "cpu" | "wasm" | "gpu" | `cuda:${number}` | OrtDevice;

export type BackendName = "tensorflow-gpu" | "tensorflow" | "wasm" | "cpu" | "ort";

export interface BackendInfo {
  device: Device;
  backend: BackendName;
  threads: number;
  description: string;
  /** ort: the execution provider its training graphs run on. */
  ort?: { provider: "cpu" | "cuda"; deviceId: number; version: string };
  /** ort: the TF.js backend beside it (model building, validation, models ONNX Runtime cannot train). */
  companion?: BackendInfo;
}

/** What an engine can do; train/stepper.ts decides by these, not by the engine's name. */
export interface BackendCapabilities {
  /** Computes on one thread: the stepper may split batches over worker threads (workers > 1). */
  dataParallel: boolean;
  /** Bytes one thread's heap can hold, which bounds the activations of a pass (WASM: 4 GiB); null: no such bound. */
  heapBytes: number | null;
  /** How the engine reports running out of its heap (explainStepFailure turns it into advice). */
  outOfMemory: RegExp | null;
  /** Which step runs: TF.js's tape, or generated ONNX training graphs (server/ml/ort/). */
  stepper: "tfjs" | "onnx-graphs";
  /**
   * Trains any TF.js model, or only layer graphs whose layer types all have training emitters;
   * other models train on the companion TF.js backend, with the reason logged.
   */
  trainsAnyModel: boolean;
  gpu: boolean;
}

interface Engine {
  backend: BackendName;
  /** ONNX Runtime's CUDA provider and ONNX Runtime's CPU provider are separate rows: they rank apart. */
  provider?: "cpu" | "cuda";
  capabilities: BackendCapabilities;
  /** Why it cannot be used here, or null when it can. Loads nothing. */
  missing(): string | null;
  /** A description before the engine is loaded (availableDevices). */
  summary(): string;
}

const WASM_HEAP_BYTES = 4 * 2 ** 30;
const tfjsStep = { stepper: "tfjs", trainsAnyModel: true } as const;
const ortStep = { stepper: "onnx-graphs", trainsAnyModel: false, dataParallel: false, heapBytes: null, outOfMemory: null } as const;

/**
 * Fastest first, as measured on a 2-core host (MEASUREMENTS.md: ONNX Runtime's training graphs
 * ≈ PyTorch's CPU speed, 2× or more the WASM engine's on the reference CNN; plain JavaScript ~100×
 * slower than WASM). libtensorflow with CUDA is kept ahead of ONNX Runtime's CUDA provider: it
 * trains every model, and the two have not been compared on a GPU.
 */
const ENGINES: Engine[] = [
  {
    backend: "tensorflow-gpu",
    capabilities: { ...tfjsStep, dataParallel: false, heapBytes: null, outOfMemory: null, gpu: true },
    missing: () => {
      if (!isInstalled("@tensorflow/tfjs-node-gpu")) return "@tensorflow/tfjs-node-gpu is not installed";
      return visibleCudaGpus().length === 0 ? "no NVIDIA GPU visible (/proc/driver/nvidia/gpus is empty or absent)" : null;
    },
    summary: () => "tensorflow-gpu (libtensorflow with CUDA)",
  },
  {
    backend: "ort",
    provider: "cuda",
    capabilities: { ...ortStep, gpu: true },
    missing: () => (!isInstalled("onnxruntime-node") ? "onnxruntime-node is not installed" : (cudaProviderMissing() ?? (visibleCudaGpus().length === 0 ? "no NVIDIA GPU visible" : null))),
    summary: () => "ort (ONNX Runtime, CUDA execution provider, GPU 0, training graphs)",
  },
  {
    backend: "ort",
    provider: "cpu",
    capabilities: { ...ortStep, gpu: false },
    missing: () => (isInstalled("onnxruntime-node") ? null : "onnxruntime-node is not installed"),
    summary: () => `ort (ONNX Runtime on CPU, ${os.availableParallelism()} threads, training graphs)`,
  },
  {
    backend: "tensorflow",
    capabilities: { ...tfjsStep, dataParallel: false, heapBytes: null, outOfMemory: null, gpu: false },
    missing: () => (isInstalled("@tensorflow/tfjs-node") ? null : "@tensorflow/tfjs-node is not installed"),
    summary: () => `tensorflow (libtensorflow on CPU, ${os.availableParallelism()} threads)`,
  },
  {
    backend: "wasm",
    capabilities: { ...tfjsStep, dataParallel: true, heapBytes: WASM_HEAP_BYTES, outOfMemory: /memory access out of bounds|Aborted\(|Cannot enlarge memory|out of memory/i, gpu: false },
    missing: () => (isInstalled("@tensorflow/tfjs-backend-wasm") ? null : "@tensorflow/tfjs-backend-wasm is not installed"),
    summary: () => "wasm (WebAssembly, 1 thread, custom gradient kernels)",
  },
  {
    backend: "cpu",
    capabilities: { ...tfjsStep, dataParallel: true, heapBytes: null, outOfMemory: null, gpu: false },
    missing: () => null,
    summary: () => "cpu (plain JavaScript, 1 thread, custom gradient kernels)",
  },
];

const TFJS_ENGINES = ENGINES.filter((e) => e.backend !== "ort");
type TfjsBackendName = Exclude<BackendName, "ort">;

/** The capability flags of the engine behind `info`. */
export function capabilitiesOf(info: Pick<BackendInfo, "backend" | "ort">): BackendCapabilities {
  const engine = ENGINES.find((e) => e.backend === info.backend && (e.backend !== "ort" || e.provider === (info.ort?.provider ?? "cpu")));
  return engine!.capabilities;
}

/** The TF.js backend a selection computes tensors on: its own, or (ort) its companion's. */
export function tfjsBackendOf(info: BackendInfo): TfjsBackendName {
  const backend = info.companion?.backend ?? info.backend;
  return backend === "ort" ? "cpu" : backend;
}

const ORT_DEVICES_TEXT = "ONNX Runtime: ort, ort:cpu or ort:cuda:N";
const FIXED_DEVICES = ["auto", "cpu", "wasm", "gpu"] as const;
const MAX_CUDA_DEVICES = 64;
const ALLOWED_DEVICES_TEXT = `${FIXED_DEVICES.join(", ")} or cuda:N (N = 0 … ${MAX_CUDA_DEVICES - 1})`;

export class DeviceUnavailableError extends Error {
  constructor(device: Device, reason: string) {
    super(`device "${device}" is not available: ${reason}`);
    this.name = "DeviceUnavailableError";
  }
}

export function parseDevice(value: string): Device {
  const text = value.trim().toLowerCase();
  if (text === "ort" || text === "ort:cpu") return text;
  const ortCuda = /^ort:cuda:(\d{1,3})$/.exec(text);
  if (ortCuda && Number(ortCuda[1]) < MAX_CUDA_DEVICES) return `ort:cuda:${Number(ortCuda[1])}`;
  if ((FIXED_DEVICES as readonly string[]).includes(text)) return text as Device;
  // Ultralytics users write device=0 for the first GPU; no host has more than MAX_CUDA_DEVICES.
  const cuda = /^(?:cuda:)?(\d{1,3})$/.exec(text);
  if (cuda && Number(cuda[1]) < MAX_CUDA_DEVICES) return `cuda:${Number(cuda[1])}`;
  throw new Error(`unknown device "${value}"; allowed: ${ALLOWED_DEVICES_TEXT}; ${ORT_DEVICES_TEXT}`);
}

const requireFromHere = createRequire(import.meta.url);

function isInstalled(packageName: string): boolean {
  try {
    requireFromHere.resolve(packageName);
    return true;
  } catch {
    return false;
  }
}

/** NVIDIA GPUs the kernel driver reports (Linux); empty when there is no driver. */
function visibleCudaGpus(): string[] {
  try {
    return fs.readdirSync("/proc/driver/nvidia/gpus");
  } catch {
    return [];
  }
}

function tfjsEngine(backend: TfjsBackendName): Engine {
  return TFJS_ENGINES.find((e) => e.backend === backend)!;
}

/** The TF.js backend for a TF.js device: the named one, or the first present ("cpu": without a GPU). */
function tfjsBackendFor(device: Device): TfjsBackendName {
  if (device === "gpu" || device.startsWith("cuda:")) {
    const missing = tfjsEngine("tensorflow-gpu").missing();
    if (missing) throw new DeviceUnavailableError(device, missing);
    if (device.startsWith("cuda:")) {
      const index = Number(device.slice("cuda:".length));
      const count = visibleCudaGpus().length;
      if (index >= count) throw new DeviceUnavailableError(device, `only ${count} NVIDIA GPU(s) visible`);
    }
    return "tensorflow-gpu";
  }
  if (device === "wasm") {
    const missing = tfjsEngine("wasm").missing();
    if (missing) throw new DeviceUnavailableError(device, missing);
    return "wasm";
  }
  const candidates = TFJS_ENGINES.filter((e) => device !== "cpu" || !e.capabilities.gpu);
  return (candidates.find((e) => e.missing() === null)?.backend ?? "cpu") as TfjsBackendName;
}

let loadedTensorflowPackage: { name: string; cudaVisibleDevices: string | undefined } | null = null;

async function loadTensorflowPackage(device: Device, backend: "tensorflow" | "tensorflow-gpu"): Promise<void> {
  const name = backend === "tensorflow-gpu" ? "@tensorflow/tfjs-node-gpu" : "@tensorflow/tfjs-node";
  const cudaVisibleDevices = device.startsWith("cuda:") ? device.slice("cuda:".length) : undefined;
  if (loadedTensorflowPackage) {
    if (loadedTensorflowPackage.name !== name || loadedTensorflowPackage.cudaVisibleDevices !== cudaVisibleDevices) {
      throw new DeviceUnavailableError(device, `${loadedTensorflowPackage.name} is already loaded in this process for another device; start a new process`);
    }
    return;
  }
  // TensorFlow reads CUDA_VISIBLE_DEVICES once, when its library loads.
  if (cudaVisibleDevices !== undefined) process.env.CUDA_VISIBLE_DEVICES = cudaVisibleDevices;
  try {
    await import(/* @vite-ignore */ name);
  } catch (error) {
    throw new DeviceUnavailableError(device, `${name} failed to load: ${(error as Error).message}`);
  }
  loadedTensorflowPackage = { name, cudaVisibleDevices };
}

let wasmPathsSet = false;

async function loadWasmBackend(): Promise<void> {
  const wasm = await import("@tensorflow/tfjs-backend-wasm");
  if (wasmPathsSet) return;
  // The package entry lives in dist/, beside the .wasm binaries; the backend picks the SIMD build.
  const distFolder = path.dirname(requireFromHere.resolve("@tensorflow/tfjs-backend-wasm"));
  wasm.setWasmPaths(distFolder + path.sep);
  wasmPathsSet = true;
}

const tfRegistryName = (backend: TfjsBackendName) => (backend === "tensorflow-gpu" ? "tensorflow" : backend);

function describe(backend: TfjsBackendName, threads: number, dataParallel = false): string {
  const threadsText = `${threads}${dataParallel ? " data-parallel" : ""} thread${threads === 1 ? "" : "s"}`;
  switch (backend) {
    case "tensorflow-gpu":
      return `tensorflow-gpu (libtensorflow with CUDA, ${visibleCudaGpus().length} GPU(s) on host)`;
    case "tensorflow":
      return `tensorflow (libtensorflow on CPU, ${threads} threads)`;
    case "wasm":
      return `wasm (${tf.env().getBool("WASM_HAS_SIMD_SUPPORT") ? "SIMD" : "no SIMD"}, ${threadsText}, custom gradient kernels)`;
    case "cpu":
      return `cpu (plain JavaScript, ${threadsText}, custom gradient kernels)`;
  }
}

/** The backend as data-parallel training uses it: `threads` threads, each with its own copy of the backend. */
export function withDataParallelThreads(info: BackendInfo, threads: number): BackendInfo {
  if (info.backend === "ort") return info;
  return { ...info, threads, description: describe(info.backend, threads, true) };
}

function threadsOf(backend: TfjsBackendName): number {
  if (backend === "tensorflow" || backend === "tensorflow-gpu") return os.availableParallelism();
  if (backend === "wasm") {
    const wasmBackend = tf.backend() as unknown as { wasm?: { tfjs?: { getThreadsCount?: () => number } } };
    return wasmBackend.wasm?.tfjs?.getThreadsCount?.() ?? 1;
  }
  return 1;
}

const initialized = new Map<Device, Promise<BackendInfo>>();

/** Selects and initialises the engine for `device`; calling it again is cheap. */
export function initBackend(device: Device = "auto"): Promise<BackendInfo> {
  let pending = initialized.get(device);
  if (!pending) {
    pending = initialize(device);
    initialized.set(device, pending);
    pending.catch(() => initialized.delete(device));
  }
  return pending.then(async (info) => {
    // Another device may have been selected in between.
    const name = tfRegistryName(tfjsBackendOf(info));
    if (tf.getBackend() !== name) await tf.setBackend(name);
    return info;
  });
}

function isOrtDevice(device: Device): device is OrtDevice {
  return device === "ort" || device.startsWith("ort:");
}

/**
 * ort: ONNX Runtime trains, on its CPU provider, or on CUDA for ort:cuda:N when onnxruntime-node's
 * CUDA provider is installed (the README's GPU extras); the fastest CPU TF.js backend runs beside it.
 * `auto` selects it with the device "auto" kept, so the run says it chose.
 */
async function initializeOrt(device: Device, provider: "cpu" | "cuda", deviceId: number): Promise<BackendInfo> {
  if (provider === "cuda") {
    const missing = cudaProviderMissing();
    if (missing) throw new DeviceUnavailableError(device, missing);
  }
  const companion = await initialize("cpu");
  const version = ortVersion();
  const threads = os.availableParallelism();
  const where = provider === "cuda" ? `CUDA execution provider, GPU ${deviceId}` : `CPU execution provider, ${threads} intra-op thread${threads === 1 ? "" : "s"}`;
  return {
    device,
    backend: "ort",
    threads,
    description: `ort (ONNX Runtime ${version}, ${where}, forward + loss + backward as ONNX graphs; TF.js ${companion.backend} beside it)`,
    ort: { provider, deviceId, version },
    companion,
  };
}

async function initialize(device: Device): Promise<BackendInfo> {
  if (isOrtDevice(device)) {
    const cuda = /^ort:cuda:(\d+)$/.exec(device);
    return initializeOrt(device, cuda ? "cuda" : "cpu", cuda ? Number(cuda[1]) : 0);
  }
  if (device === "auto") {
    const fastest = ENGINES.find((e) => e.missing() === null);
    if (fastest?.backend === "ort") return initializeOrt(device, fastest.provider ?? "cpu", 0);
  }
  const backend = tfjsBackendFor(device);
  if (backend === "tensorflow" || backend === "tensorflow-gpu") await loadTensorflowPackage(device, backend);
  if (backend === "wasm") await loadWasmBackend();
  registerGradientKernels();
  const ok = await tf.setBackend(tfRegistryName(backend));
  if (!ok) throw new DeviceUnavailableError(device, `the TF.js backend "${tfRegistryName(backend)}" failed to initialise`);
  await tf.ready();
  const threads = threadsOf(backend);
  return { device, backend, threads, description: describe(backend, threads) };
}

/** Devices this host can train on, fastest first; nothing is loaded to find out. */
export async function availableDevices(): Promise<{ device: Device; backend: BackendName; description: string }[]> {
  const usable = ENGINES.filter((e) => e.missing() === null);
  const devices: { device: Device; backend: BackendName; description: string }[] = [{ device: "auto", backend: usable[0].backend, description: usable[0].summary() }];
  const gpu = usable.find((e) => e.backend === "tensorflow-gpu");
  if (gpu) {
    devices.push({ device: "gpu", backend: "tensorflow-gpu", description: gpu.summary() });
    visibleCudaGpus().forEach((_, index) => devices.push({ device: `cuda:${index}`, backend: "tensorflow-gpu", description: `${gpu.summary()}, GPU ${index}` }));
  }
  const cpu = usable.find((e) => e.backend !== "ort" && !e.capabilities.gpu) ?? tfjsEngine("cpu");
  devices.push({ device: "cpu", backend: cpu.backend, description: cpu.summary() });
  if (usable.some((e) => e.backend === "wasm")) devices.push({ device: "wasm", backend: "wasm", description: tfjsEngine("wasm").summary() });
  const ortCpu = usable.find((e) => e.backend === "ort" && e.provider === "cpu");
  if (ortCpu) devices.push({ device: "ort", backend: "ort", description: ortCpu.summary() });
  if (usable.some((e) => e.backend === "ort" && e.provider === "cuda")) {
    visibleCudaGpus().forEach((_, index) => devices.push({ device: `ort:cuda:${index}`, backend: "ort", description: `ort (ONNX Runtime, CUDA execution provider, GPU ${index}, training graphs)` }));
  }
  return devices;
}
