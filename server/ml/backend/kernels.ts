// Registers our gradient kernels: the ones TF.js's WASM backend lacks, and faster versions of
// kernels that WASM and the plain CPU backend have but run slowly.
import * as tf from "@tensorflow/tfjs";
import { wasmKernels } from "./wasm-kernels";
import { cpuKernels } from "./cpu-kernels";

let registered = false;

/** Idempotent. Works before or after the backends initialise. */
export function registerGradientKernels(): void {
  if (registered) return;
  for (const config of [...wasmKernels(), ...cpuKernels()]) replaceKernel(config);
  registered = true;
}

function replaceKernel(config: tf.KernelConfig): void {
  const existing = tf.getKernel(config.kernelName, config.backendName);
  if (existing) {
    tf.unregisterKernel(config.kernelName, config.backendName);
    // Keep the original's setup (it binds WASM functions our fallbacks may still call).
    tf.registerKernel({ ...config, setupFunc: config.setupFunc ?? existing.setupFunc });
  } else {
    tf.registerKernel(config);
  }
}
