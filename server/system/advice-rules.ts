/**
 * Training advice from measurements (seed 000 §5.1): each rule looks at what the fleet measured and
 * what the client plans, and says what to change, in the module's words. Pure: the figures come in.
 */

/** A figure is null when no training host reported one lately: the rules that need it stay silent. */
export interface AdviceMeasurements {
  cpuPercent: number | null;
  memoryPercent: number | null;
  memoryAvailableBytes: number | null;
  /** Every GPU of the live training hosts ([] when they have none). */
  gpus: { utilPercent: number | null; memoryPercent: number | null }[] | null;
  /** Means over the last minute on the hosts running this project's runs; null when none runs. */
  recent: { gpuUtilPercent: number | null; cpuPercent: number } | null;
  /** AutoBatch's measured batch for this model and image size (60% of the device's free memory). */
  measuredBatch: { batch: number; device: string; host: string } | null;
  /** Images in the project's dataset, for the cache's size. */
  datasetImages: number | null;
  /** Parameters of the planned model at the planned image size. */
  modelParams: number | null;
}

export interface AdviceRequest {
  model: string;
  task: "classify" | "detect";
  batch: number | null;
  imgsz: number;
  cache: false | "ram" | "disk";
}

export interface Suggestion {
  type: string;
  issue: string;
  suggestion: string;
  config_changes: Record<string, unknown>;
}

export const MEMORY_PRESSURE_PERCENT = 85;
export const GPU_MEMORY_PRESSURE_PERCENT = 90;
/** GPU below this while the CPU is above CPU_BUSY_PERCENT: the GPU waits for data. */
export const GPU_IDLE_PERCENT = 40;
export const CPU_BUSY_PERCENT = 85;
/** A model this large takes hours per epoch on CPU cores. */
export const CPU_MODEL_PARAMS = 10_000_000;
/** The largest stride of the zoo's networks: inputs must be a multiple of it. */
export const MAX_STRIDE = 32;

const DEFAULT_BATCH = 16;
const gb = (bytes: number) => (bytes / 2 ** 30).toFixed(1);

/** The smallest model of the same task: what a CPU can train. */
function smallerModel(task: AdviceRequest["task"]): string {
  return task === "detect" ? "yolov8n" : "reference-cnn";
}

/** The advice that applies, most pressing first; none when everything fits. */
export function adviseTraining(m: AdviceMeasurements, r: AdviceRequest): Suggestion[] {
  const out: Suggestion[] = [];
  const batch = r.batch !== null && r.batch > 0 ? r.batch : DEFAULT_BATCH;
  const halved = Math.max(1, Math.floor(batch / 2));

  if (m.memoryPercent !== null && m.memoryPercent >= MEMORY_PRESSURE_PERCENT) {
    out.push({ type: "memory", issue: "内存使用率过高", suggestion: "建议减少批量大小或关闭图像缓存", config_changes: { batch_size: halved, cache: false } });
  }
  const gpuMemory = (m.gpus ?? []).map((g) => g.memoryPercent).filter((v): v is number => v !== null);
  if (gpuMemory.length > 0 && Math.min(...gpuMemory) >= GPU_MEMORY_PRESSURE_PERCENT) {
    out.push({ type: "gpu_memory", issue: "显存使用率过高", suggestion: "建议减少批量大小，或等待占用显存的任务结束", config_changes: { batch_size: halved } });
  }
  if (m.measuredBatch && r.batch !== null && r.batch > m.measuredBatch.batch) {
    const fit = m.measuredBatch.batch;
    out.push({
      type: "batch_size",
      issue: "批量大小超出设备可用内存",
      suggestion: `在 ${m.measuredBatch.host} 的 ${m.measuredBatch.device} 上实测，批量大小 ${fit} 约占可用内存的 60%；建议将批量大小降至 ${fit}，或设为 -1 自动选择`,
      config_changes: { batch_size: fit },
    });
  }
  if (m.recent && m.recent.gpuUtilPercent !== null && m.recent.gpuUtilPercent < GPU_IDLE_PERCENT && m.recent.cpuPercent >= CPU_BUSY_PERCENT && r.cache === false) {
    out.push({
      type: "dataloader",
      issue: "GPU 利用率低，数据加载成为瓶颈",
      suggestion: `最近一分钟 GPU 利用率 ${Math.round(m.recent.gpuUtilPercent)}%，CPU ${Math.round(m.recent.cpuPercent)}%；建议开启图像缓存（cache=ram），省去每轮的图像解码`,
      config_changes: { cache: "ram" },
    });
  }
  if (r.cache === "ram" && m.datasetImages !== null && m.memoryAvailableBytes !== null) {
    const needed = m.datasetImages * r.imgsz * r.imgsz * 3;
    if (needed > m.memoryAvailableBytes) {
      out.push({
        type: "cache",
        issue: "图像缓存所需内存超过可用内存",
        suggestion: `缓存 ${m.datasetImages} 张 ${r.imgsz}×${r.imgsz} 图像约需 ${gb(needed)} GB，可用内存仅 ${gb(m.memoryAvailableBytes)} GB；建议改用磁盘缓存（cache=disk）`,
        config_changes: { cache: "disk" },
      });
    }
  }
  if (r.imgsz % MAX_STRIDE !== 0) {
    const fixed = Math.max(MAX_STRIDE, Math.round(r.imgsz / MAX_STRIDE) * MAX_STRIDE);
    out.push({ type: "image_size", issue: `图像尺寸 ${r.imgsz} 不是 ${MAX_STRIDE} 的倍数`, suggestion: `建议将图像尺寸设为 ${fixed}，与模型的最大步长 ${MAX_STRIDE} 对齐`, config_changes: { image_size: fixed } });
  }
  if (m.gpus?.length === 0 && m.modelParams !== null && m.modelParams > CPU_MODEL_PARAMS) {
    const smaller = smallerModel(r.task);
    out.push({
      type: "device",
      issue: "当前没有可用的 GPU，所选模型在 CPU 上训练会非常慢",
      suggestion: `${r.model} 有 ${(m.modelParams / 1e6).toFixed(1)}M 参数；建议换用更小的模型（如 ${smaller}），或在有 GPU 的主机上训练`,
      config_changes: { model_type: smaller },
    });
  }
  return out;
}
