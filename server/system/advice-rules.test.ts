import { describe, expect, it } from "vitest";
import { adviseTraining, type AdviceMeasurements, type AdviceRequest } from "./advice-rules";

/** A host that is fine: half its memory free, one idle 24 GB GPU, nothing running, no measurement. */
const calm: AdviceMeasurements = {
  cpuPercent: 20,
  memoryPercent: 50,
  memoryAvailableBytes: 16 * 2 ** 30,
  gpus: [{ utilPercent: 5, memoryPercent: 10 }],
  recent: null,
  measuredBatch: null,
  datasetImages: 1000,
  modelParams: 11_000_000,
};
const plan: AdviceRequest = { model: "yolov8s", task: "detect", batch: 16, imgsz: 640, cache: false };
const types = (m: Partial<AdviceMeasurements>, r: Partial<AdviceRequest> = {}) => adviseTraining({ ...calm, ...m }, { ...plan, ...r }).map((s) => s.type);

describe("training advice", () => {
  it("says nothing when everything fits", () => {
    expect(adviseTraining(calm, plan)).toEqual([]);
  });

  it("memory pressure: the document's own words, half the batch and no cache", () => {
    expect(adviseTraining({ ...calm, memoryPercent: 87.3 }, plan)).toEqual([
      { type: "memory", issue: "内存使用率过高", suggestion: "建议减少批量大小或关闭图像缓存", config_changes: { batch_size: 8, cache: false } },
    ]);
  });

  it("GPU memory pressure only when every GPU is nearly full", () => {
    expect(types({ gpus: [{ utilPercent: 90, memoryPercent: 95 }, { utilPercent: 0, memoryPercent: 5 }] })).toEqual([]);
    expect(types({ gpus: [{ utilPercent: 90, memoryPercent: 95 }] })).toEqual(["gpu_memory"]);
  });

  it("a batch larger than AutoBatch measured for this model: the measured batch", () => {
    const [s] = adviseTraining({ ...calm, measuredBatch: { batch: 12, device: "cuda:0", host: "gpu-1" } }, plan);
    expect(s).toMatchObject({ type: "batch_size", config_changes: { batch_size: 12 } });
    expect(s.suggestion).toContain("gpu-1 的 cuda:0");
    expect(types({ measuredBatch: { batch: 32, device: "cuda:0", host: "gpu-1" } })).toEqual([]);
    // AutoBatch itself (-1) is never too large.
    expect(types({ measuredBatch: { batch: 12, device: "cuda:0", host: "gpu-1" } }, { batch: -1 })).toEqual([]);
  });

  it("a GPU idling while the CPU is saturated: the loader is the bottleneck, cache the images", () => {
    expect(types({ recent: { gpuUtilPercent: 22, cpuPercent: 97 } })).toEqual(["dataloader"]);
    expect(types({ recent: { gpuUtilPercent: 22, cpuPercent: 50 } })).toEqual([]);
    expect(types({ recent: { gpuUtilPercent: 85, cpuPercent: 97 } })).toEqual([]);
    expect(types({ recent: { gpuUtilPercent: 22, cpuPercent: 97 } }, { cache: "ram" })).toEqual([]);
  });

  it("a RAM cache larger than the free memory: cache on disk", () => {
    // 20,000 images of 640×640×3 bytes ≈ 22.9 GiB > 16 GiB free.
    const [s] = adviseTraining({ ...calm, datasetImages: 20_000 }, { ...plan, cache: "ram" });
    expect(s).toMatchObject({ type: "cache", issue: "图像缓存所需内存超过可用内存", config_changes: { cache: "disk" } });
    expect(s.suggestion).toMatch(/22\.9 GB.*16\.0 GB/);
    expect(types({ datasetImages: 1000 }, { cache: "ram" })).toEqual([]);
  });

  it("an image size off the network's stride: the nearest multiple of 32", () => {
    expect(adviseTraining(calm, { ...plan, imgsz: 500 })).toEqual([expect.objectContaining({ type: "image_size", config_changes: { image_size: 512 } })]);
    expect(adviseTraining(calm, { ...plan, imgsz: 20 })[0].config_changes).toEqual({ image_size: 32 });
  });

  it("a big model on hosts without a GPU: the task's small model", () => {
    expect(adviseTraining({ ...calm, gpus: [] }, plan)).toEqual([expect.objectContaining({ type: "device", config_changes: { model_type: "yolov8n" } })]);
    expect(types({ gpus: [], modelParams: 3_000_000 })).toEqual([]);
    expect(adviseTraining({ ...calm, gpus: [], modelParams: 21_800_000 }, { ...plan, model: "resnet34", task: "classify" })[0].config_changes).toEqual({ model_type: "reference-cnn" });
  });

  it("stays silent where no host reported figures: nothing is judged on figures nobody measured", () => {
    const unknown = { cpuPercent: null, memoryPercent: null, memoryAvailableBytes: null, gpus: null };
    expect(types(unknown, { cache: "ram" })).toEqual([]);
    // What needs no host figures still applies.
    expect(types(unknown, { imgsz: 500 })).toEqual(["image_size"]);
  });

  it("lists every rule that applies, most pressing first", () => {
    expect(types({ memoryPercent: 92, gpus: [], datasetImages: 50_000 }, { cache: "ram", imgsz: 650 })).toEqual(["memory", "cache", "image_size", "device"]);
  });
});
