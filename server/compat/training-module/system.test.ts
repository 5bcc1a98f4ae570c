import os from "node:os";
import { and, eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { batchMeasurements } from "@/db/schema";
import { bearer, createDialectWorld, getRequest, jsonRequest, routeContext, type DialectWorld } from "@/server/compat/shared/testing";
import { createJobRegistry, workJobs } from "@/server/jobs/registry";
import { measureBatchJob } from "@/server/system/measure-batch-job";
import { startTestSampler } from "@/server/system/testing";
import { suggestOptimalConfig, suggestPerformance, systemResources } from "./system";

/** The document's examples (seed 000 §4.1, §5.1, §5.2): the answers must carry the same fields, with the same kinds of values. */
const DOCUMENTED = {
  systemResources: {
    success: true,
    data: {
      cpu_percent: 45.2,
      memory_percent: 67.8,
      memory_available_gb: 8.4,
      gpu_info: [{ device: "cuda:0", name: "NVIDIA GeForce RTX 3080", memory_used_gb: 4.2, memory_total_gb: 10.0, memory_percent: 42.0 }],
      active_tasks: 1,
      max_concurrent_tasks: 2,
    },
  },
  suggestions: {
    success: true,
    data: {
      suggestions: [{ type: "memory", issue: "内存使用率过高", suggestion: "建议减少批量大小或关闭图像缓存", config_changes: { batch_size: 8, cache: false } }],
      resource_usage: { cpu_percent: 45.2, memory_percent: 87.3 },
    },
  },
  optimalConfig: { success: true, data: { epochs: 100, batch: 12, lr0: 0.01, device: "auto", amp: true, cache: false, workers: 4, save_period: 20, patience: 30, optimizer: "AdamW" } },
};

/** The shape of a JSON value: objects by their keys, arrays by their first element, the rest by type. */
function shape(value: unknown): unknown {
  if (Array.isArray(value)) return value.length ? [shape(value[0])] : [];
  if (value !== null && typeof value === "object") return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, shape(v)]));
  return typeof value;
}

let w: DialectWorld;
let stopSampler: () => Promise<void>;

beforeAll(async () => {
  w = await createDialectWorld();
  // A real training host (this one) and a worker that takes AutoBatch measurements.
  const sampler = await startTestSampler(w.tdb.db);
  stopSampler = () => sampler.stop();
  await workJobs(w.boss, createJobRegistry([measureBatchJob] as const), { db: w.tdb.db, slots: 1, pollingIntervalSeconds: 0.5 });
  for (let i = 0; i < 150 && sampler.written === 0; i++) await new Promise((resolve) => setTimeout(resolve, 100));
}, 60_000);

afterAll(async () => {
  await stopSampler?.();
  await w?.close();
});

const deps = () => ({ db: w.tdb.db, boss: w.boss });

describe("seed 000 §4.1 GET /training/system_resources/<project>", () => {
  it("answers the document's fields from this host's sample: no GPU here, so gpu_info is empty", async () => {
    const res = await systemResources(getRequest("/training/system_resources/default", bearer(w.key)), routeContext({ project_name: "default" }, deps()));
    expect(res.status).toBe(200);
    const body = await res.json();
    expect(Object.keys(body.data)).toEqual(Object.keys(DOCUMENTED.systemResources.data));
    expect(shape({ ...body, data: { ...body.data, gpu_info: DOCUMENTED.systemResources.data.gpu_info } })).toEqual(shape(DOCUMENTED.systemResources));
    expect(body.data.gpu_info).toEqual([]);
    expect(body.data.cpu_percent).toBeGreaterThanOrEqual(0);
    expect(body.data.memory_available_gb).toBeGreaterThan(0);
    // The test host's worker has 2 slots and runs nothing.
    expect(body.data).toMatchObject({ active_tasks: 0, max_concurrent_tasks: 2 });
  });

  it("answers another team's project as missing and a caller without credentials 401, in {success: false, error}", async () => {
    const other = await systemResources(getRequest("/training/system_resources/default", bearer(w.otherKey)), routeContext({ project_name: "nope" }, deps()));
    expect(other.status).toBe(404);
    expect(await other.json()).toEqual({ success: false, error: expect.stringContaining("nope") });
    expect((await systemResources(getRequest("/training/system_resources/default"), routeContext({ project_name: "default" }, deps()))).status).toBe(401);
  });
});

describe("seed 000 §5.1 POST /training/performance_suggestions/<project>", () => {
  const ask = (body: unknown) => suggestPerformance(jsonRequest("POST", "/training/performance_suggestions/default", body, bearer(w.key)), routeContext({ project_name: "default" }, deps()));

  it("answers the document's request with its fields: a CPU-only host is told yolov8s is too big for it", async () => {
    const res = await ask({ model_type: "yolov8s", config: { batch_size: 16, epochs: 100, device: "auto" } });
    expect(res.status).toBe(200);
    const body = await res.json();
    // config_changes holds what each suggestion changes: its keys differ by suggestion.
    const withoutChanges = (b: typeof DOCUMENTED.suggestions) => ({ ...b, data: { ...b.data, suggestions: b.data.suggestions.map((x) => ({ ...x, config_changes: {} })) } });
    expect(shape(withoutChanges(body))).toEqual(shape(withoutChanges(DOCUMENTED.suggestions)));
    expect(Object.keys(body.data.resource_usage)).toEqual(["cpu_percent", "memory_percent"]);
    expect(body.data.suggestions).toContainEqual({ type: "device", issue: "当前没有可用的 GPU，所选模型在 CPU 上训练会非常慢", suggestion: expect.stringContaining("yolov8n"), config_changes: { model_type: "yolov8n" } });
  });

  it("flags an image size that is not a multiple of 32, and a batch larger than AutoBatch measured", async () => {
    await w.tdb.db.insert(batchMeasurements).values({ host: os.hostname(), device: "auto", backend: "wasm", model: "reference-cnn", imgsz: 96, bytesPerImage: 1e6, interceptBytes: 1e6, freeBytes: 4e9, batch: 40, samples: [] });
    const body = await (await ask({ model_type: "reference-cnn", config: { batch_size: 64, image_size: 100 } })).json();
    expect(body.data.suggestions.map((s: { type: string }) => s.type)).toEqual(["image_size"]);
    expect(body.data.suggestions[0].config_changes).toEqual({ image_size: 96 });
    const measured = await (await ask({ model_type: "reference-cnn", config: { batch_size: 64, image_size: 96 } })).json();
    expect(measured.data.suggestions).toEqual([expect.objectContaining({ type: "batch_size", issue: "批量大小超出设备可用内存", config_changes: { batch_size: 40 } })]);
  });

  it("refuses a body without model_type or with a bad batch size, naming the field", async () => {
    const missing = await ask({ config: {} });
    expect(missing.status).toBe(400);
    expect((await missing.json()).error).toMatch(/model_type/);
    const bad = await ask({ model_type: "yolov8n", config: { batch_size: 0 } });
    expect(bad.status).toBe(400);
    expect((await bad.json()).error).toMatch(/config\.batch_size.*-1 for AutoBatch/);
  });
});

describe("seed 000 §5.2 POST /training/optimal_config/<project>", () => {
  const ask = (body: unknown) => suggestOptimalConfig(jsonRequest("POST", "/training/optimal_config/default", body, bearer(w.key)), { ...routeContext({ project_name: "default" }, deps()), waitMs: 240_000 });

  it("measures the model on a worker with AutoBatch and answers the document's ten fields", async () => {
    const res = await ask({ model_type: "reference-cnn", epochs: 50, device: "wasm", image_size: 32 });
    expect(res.status).toBe(200);
    const body = await res.json();
    expect(Object.keys(body.data)).toEqual(Object.keys(DOCUMENTED.optimalConfig.data));
    expect(shape({ ...body, data: { ...body.data, cache: false } })).toEqual(shape(DOCUMENTED.optimalConfig));
    expect(body.data).toMatchObject({ epochs: 50, device: "wasm", amp: false, save_period: 10, patience: 15, optimizer: "AdamW" });
    expect(Number.isInteger(body.data.batch) && body.data.batch >= 1).toBe(true);
    const [row] = await w.tdb.db.select().from(batchMeasurements).where(and(eq(batchMeasurements.model, "reference-cnn"), eq(batchMeasurements.imgsz, 32)));
    expect(row).toMatchObject({ device: "wasm", backend: "wasm" });
    expect(body.data.batch).toBeLessThanOrEqual(row.batch);
    expect(row.samples.map((s) => s.batch)).toEqual([1, 2, 4, 8, 16]);
    // Asked again, the stored measurement answers at once with the same batch.
    expect((await (await ask({ model_type: "reference-cnn", epochs: 50, device: "wasm", image_size: 32 })).json()).data.batch).toBe(body.data.batch);
  }, 300_000);

  it("refuses an unknown model and an image size off the stride, naming the field", async () => {
    const unknown = await ask({ model_type: "nonexistent-net" });
    expect(unknown.status).toBe(400);
    expect((await unknown.json()).error).toMatch(/nonexistent-net/);
    const odd = await ask({ model_type: "reference-cnn", image_size: 33 });
    expect(odd.status).toBe(400);
    expect((await odd.json()).error).toMatch(/image_size 33 is not a multiple of 32/);
  });
});
