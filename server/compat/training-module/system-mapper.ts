import { z } from "zod";
import { parseInput } from "@/server/errors";
import { givenHyperparameters } from "@/server/experiments/schemas";
import type { Suggestion } from "@/server/system/advice-rules";
import type { FleetResources, OptimalConfig, PlannedTraining } from "@/server/system/advisor";

/** Seed 000 §4–5 (`/training/system_resources|performance_suggestions|optimal_config/<project>`): bodies in, the document's fields out. */

const round1 = (value: number | null) => (value === null ? null : Math.round(value * 10) / 10);
const gb = (bytes: number | null) => (bytes === null ? null : round1(bytes / 2 ** 30));

/**
 * §4.1 `data`; with several training hosts a GPU's `device` is `cuda:N` on its `host`. With no host
 * sampled lately the figures are null and `reason` says why.
 */
export function trainingModuleSystemResources(r: FleetResources) {
  return {
    cpu_percent: round1(r.cpuPercent),
    memory_percent: round1(r.memoryPercent),
    memory_available_gb: gb(r.memoryAvailableBytes),
    gpu_info: r.gpus.map((g) => ({
      device: `cuda:${g.index}`,
      name: g.name,
      memory_used_gb: g.memoryUsedMiB === null ? null : round1(g.memoryUsedMiB / 1024),
      memory_total_gb: g.memoryTotalMiB === null ? null : round1(g.memoryTotalMiB / 1024),
      memory_percent: g.memoryUsedMiB !== null && g.memoryTotalMiB ? round1((g.memoryUsedMiB / g.memoryTotalMiB) * 100) : null,
      host: g.host,
    })),
    active_tasks: r.activeRuns,
    max_concurrent_tasks: r.slots,
    ...(r.reason && { reason: r.reason }),
  };
}

/** §5.1 `data`: the suggestions and the figures they were made from. */
export function trainingModuleSuggestions(suggestions: Suggestion[], r: FleetResources) {
  return { suggestions, resource_usage: { cpu_percent: round1(r.cpuPercent), memory_percent: round1(r.memoryPercent), ...(r.reason && { reason: r.reason }) } };
}

/** §5.2 `data`, the document's ten fields in its order. */
export function trainingModuleOptimalConfig(c: OptimalConfig) {
  return { epochs: c.epochs, batch: c.batch, lr0: c.lr0, device: c.device, amp: c.amp, cache: c.cache, workers: c.workers, save_period: c.save_period, patience: c.patience, optimizer: c.optimizer };
}

const modelType = z.string({ error: "model_type is required" }).trim().min(1, { error: "model_type is required" }).max(200);
const device = z.string({ error: "device must be a string" }).trim().min(1, { error: "device must not be empty" }).max(40);
/** The module sent `cache: false`; Ultralytics' true means RAM. */
const cache = z.union([z.boolean(), z.literal("ram"), z.literal("disk")], { error: 'cache must be true, false, "ram" or "disk"' }).transform((v) => (v === true ? "ram" : v));
const { epochs, batch, imgsz: imageSize } = givenHyperparameters.shape;

export const suggestionsBody = z.object({
  model_type: modelType,
  config: z
    .object(
      {
        batch_size: batch,
        epochs,
        device: device.optional(),
        image_size: imageSize,
        imgsz: imageSize,
        cache: cache.optional(),
      },
      { error: "config must be an object" },
    )
    .default({}),
});

export function parsePerformanceSuggestionsBody(body: unknown): PlannedTraining {
  const { model_type, config } = parseInput(suggestionsBody, body);
  return { model: model_type, batch: config.batch_size ?? null, imgsz: config.image_size ?? config.imgsz ?? null, cache: config.cache ?? false, epochs: config.epochs, device: config.device };
}

export const optimalBody = z.object({ model_type: modelType, epochs, device: device.optional(), image_size: imageSize, imgsz: imageSize });

export function parseOptimalConfigBody(body: unknown): PlannedTraining {
  const input = parseInput(optimalBody, body);
  return { model: input.model_type, epochs: input.epochs, device: input.device, imgsz: input.image_size ?? input.imgsz ?? null };
}
