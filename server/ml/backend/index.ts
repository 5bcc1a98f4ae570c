// Device selection for training: the fastest TF.js backend present on this host, with the
// gradient kernels the WASM and CPU backends lack (or have slow) registered by us; or ONNX Runtime
// (`ort`, server/ml/ort/), which runs training graphs beside a TF.js backend for everything else.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { createRequire } from "node:module";
import * as tf from "@tensorflow/tfjs";
import { cudaProviderMissing, ortVersion } from "../ort/session";
import { registerGradientKernels } from "./kernels";

export type OrtDevice = "ort" | "ort:cpu" | `ort:cuda:${number}`;
export type Device = "auto" | "cpu" | "wasm" | "gpu" | `cuda:${number}` | OrtDevice;

export interface BackendInfo {
  device: Device;
  backend: "tensorflow-gpu" | "tensorflow" | "wasm" | "cpu" | "ort";
  threads: number;
  description: string;
  /** ort: the execution provider its training graphs run on. */
  ort?: { provider: "cpu" | "cuda"; deviceId: number; version: string };
  /** ort: the TF.js backend beside it (model building, validation, models ONNX Runtime cannot train). */
  companion?: BackendInfo;
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
  if (ortCuda) return `ort:cuda:${Number(ortCuda[1])}`;
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

type BackendName = Exclude<BackendInfo["backend"], "ort">;

interface Candidate {
  backend: BackendName;
  /** Why it cannot be used here, or null when it can. */
  missing: string | null;
}

function probe(backend: BackendName): Candidate {
  switch (backend) {
    case "tensorflow-gpu":
      if (!isInstalled("@tensorflow/tfjs-node-gpu")) return { backend, missing: "@tensorflow/tfjs-node-gpu is not installed" };
      if (visibleCudaGpus().length === 0) return { backend, missing: "no NVIDIA GPU visible (/proc/driver/nvidia/gpus is empty or absent)" };
      return { backend, missing: null };
    case "tensorflow":
      return { backend, missing: isInstalled("@tensorflow/tfjs-node") ? null : "@tensorflow/tfjs-node is not installed" };
    case "wasm":
      return { backend, missing: isInstalled("@tensorflow/tfjs-backend-wasm") ? null : "@tensorflow/tfjs-backend-wasm is not installed" };
    case "cpu":
      return { backend, missing: null };
  }
}

const FASTEST_FIRST: BackendName[] = ["tensorflow-gpu", "tensorflow", "wasm", "cpu"];

function backendFor(device: Device): BackendName {
  if (device === "gpu" || device.startsWith("cuda:")) {
    const gpu = probe("tensorflow-gpu");
    if (gpu.missing) throw new DeviceUnavailableError(device, gpu.missing);
    if (device.startsWith("cuda:")) {
      const index = Number(device.slice("cuda:".length));
      const count = visibleCudaGpus().length;
      if (index >= count) throw new DeviceUnavailableError(device, `only ${count} NVIDIA GPU(s) visible`);
    }
    return "tensorflow-gpu";
  }
  if (device === "wasm") {
    const wasm = probe("wasm");
    if (wasm.missing) throw new DeviceUnavailableError(device, wasm.missing);
    return "wasm";
  }
  // "cpu" means: no GPU, fastest CPU engine. "auto" may also take a GPU.
  const order = device === "cpu" ? FASTEST_FIRST.slice(1) : FASTEST_FIRST;
  return order.find((backend) => probe(backend).missing === null) ?? "cpu";
}

let loadedTensorflowPackage: { name: string; cudaVisibleDevices: string | undefined } | null = null;

async function loadTensorflowPackage(device: Device, backend: "tensorflow" | "tensorflow-gpu"): Promise<void> {
  const name = backend === "tensorflow-gpu" ? "@tensorflow/tfjs-node-gpu" : "@tensorflow/tfjs-node";
  const cudaVisibleDevices = device.startsWith("cuda:") ? device.slice("cuda:".length) : undefined;
  if (loadedTensorflowPackage) {
    if (loadedTensorflowPackage.name !== name || loadedTensorflowPackage.cudaVisibleDevices !== cudaVisibleDevices) {
      throw new DeviceUnavailableError(
        device,
        `${loadedTensorflowPackage.name} is already loaded in this process for another device; start a new process`,
      );
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

function tfBackendName(backend: BackendName): string {
  return backend === "tensorflow-gpu" ? "tensorflow" : backend;
}

/** The TF.js backend a selection computes tensors on (ort: its companion's). */
function tfBackendOf(info: BackendInfo): string {
  const backend = info.companion?.backend ?? info.backend;
  return backend === "ort" ? "cpu" : tfBackendName(backend);
}

function describe(backend: BackendName, threads: number, dataParallel = false): string {
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

function threadsOf(backend: BackendName): number {
  if (backend === "tensorflow" || backend === "tensorflow-gpu") return os.availableParallelism();
  if (backend === "wasm") {
    const wasmBackend = tf.backend() as unknown as { wasm?: { tfjs?: { getThreadsCount?: () => number } } };
    return wasmBackend.wasm?.tfjs?.getThreadsCount?.() ?? 1;
  }
  return 1;
}

const initialized = new Map<Device, Promise<BackendInfo>>();

/** Selects and initialises the TF.js backend for `device`; calling it again is cheap. */
export function initBackend(device: Device = "auto"): Promise<BackendInfo> {
  let pending = initialized.get(device);
  if (!pending) {
    pending = initialize(device);
    initialized.set(device, pending);
    pending.catch(() => initialized.delete(device));
  }
  return pending.then(async (info) => {
    // Another device may have been selected in between.
    if (tf.getBackend() !== tfBackendOf(info)) await tf.setBackend(tfBackendOf(info));
    return info;
  });
}

function isOrtDevice(device: Device): device is OrtDevice {
  return device === "ort" || device.startsWith("ort:");
}

/**
 * ort: ONNX Runtime trains, on its CPU provider, or on CUDA for ort:cuda:N when onnxruntime-node's
 * CUDA provider is installed (the README's GPU extras); the fastest CPU TF.js backend runs beside it.
 */
async function initializeOrt(device: OrtDevice): Promise<BackendInfo> {
  const cuda = /^ort:cuda:(\d+)$/.exec(device);
  if (cuda) {
    const missing = cudaProviderMissing();
    if (missing) throw new DeviceUnavailableError(device, missing);
  }
  const companion = await initialize("cpu");
  const version = ortVersion();
  const threads = os.availableParallelism();
  const provider = cuda ? `CUDA execution provider, GPU ${cuda[1]}` : `CPU execution provider, ${threads} intra-op thread${threads === 1 ? "" : "s"}`;
  return {
    device,
    backend: "ort",
    threads,
    description: `ort (ONNX Runtime ${version}, ${provider}, forward + backward as one ONNX graph; TF.js ${companion.backend} beside it)`,
    ort: { provider: cuda ? "cuda" : "cpu", deviceId: cuda ? Number(cuda[1]) : 0, version },
    companion,
  };
}

async function initialize(device: Device): Promise<BackendInfo> {
  if (isOrtDevice(device)) return initializeOrt(device);
  const backend = backendFor(device);
  if (backend === "tensorflow" || backend === "tensorflow-gpu") await loadTensorflowPackage(device, backend);
  if (backend === "wasm") await loadWasmBackend();
  registerGradientKernels();
  const ok = await tf.setBackend(tfBackendName(backend));
  if (!ok) throw new DeviceUnavailableError(device, `the TF.js backend "${tfBackendName(backend)}" failed to initialise`);
  await tf.ready();
  const threads = threadsOf(backend);
  return { device, backend, threads, description: describe(backend, threads) };
}

/** Devices this host can train on, fastest first; nothing is loaded to find out. */
export async function availableDevices(): Promise<{ device: Device; backend: BackendInfo["backend"]; description: string }[]> {
  const devices: { device: Device; backend: BackendInfo["backend"]; description: string }[] = [];
  const usable = FASTEST_FIRST.filter((backend) => probe(backend).missing === null);
  const cpus = os.availableParallelism();
  const describeUnloaded = (backend: BackendName): string => {
    switch (backend) {
      case "tensorflow-gpu":
        return "tensorflow-gpu (libtensorflow with CUDA)";
      case "tensorflow":
        return `tensorflow (libtensorflow on CPU, ${cpus} threads)`;
      case "wasm":
        return "wasm (WebAssembly, 1 thread, custom gradient kernels)";
      case "cpu":
        return "cpu (plain JavaScript, 1 thread, custom gradient kernels)";
    }
  };
  devices.push({ device: "auto", backend: usable[0], description: describeUnloaded(usable[0]) });
  if (usable.includes("tensorflow-gpu")) {
    devices.push({ device: "gpu", backend: "tensorflow-gpu", description: describeUnloaded("tensorflow-gpu") });
    visibleCudaGpus().forEach((_, index) =>
      devices.push({ device: `cuda:${index}`, backend: "tensorflow-gpu", description: `${describeUnloaded("tensorflow-gpu")}, GPU ${index}` }),
    );
  }
  const cpuBackend = usable.find((backend) => backend !== "tensorflow-gpu") ?? "cpu";
  devices.push({ device: "cpu", backend: cpuBackend, description: describeUnloaded(cpuBackend) });
  if (usable.includes("wasm")) devices.push({ device: "wasm", backend: "wasm", description: describeUnloaded("wasm") });
  if (isInstalled("onnxruntime-node")) {
    devices.push({ device: "ort", backend: "ort", description: `ort (ONNX Runtime on CPU, ${cpus} threads, training graphs)` });
    if (cudaProviderMissing() === null) {
      visibleCudaGpus().forEach((_, index) =>
        devices.push({ device: `ort:cuda:${index}`, backend: "ort", description: `ort (ONNX Runtime, CUDA execution provider, GPU ${index})` }),
      );
    }
  }
  return devices;
}
