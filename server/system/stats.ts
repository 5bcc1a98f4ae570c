import { execFile } from "node:child_process";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";

/** Host figures as the old `/ws/system` clients expect them; null where this host has nothing to measure. */
export interface HostStats {
  /** Percent, mean over GPUs. */
  gpu_util: number | null;
  /** °C, hottest GPU. */
  gpu_temp: number | null;
  /** GB, summed over GPUs. */
  vram_used: number | null;
  vram_total: number | null;
  /** Percent of all cores busy since the previous sample. */
  cpu_load: number;
  /** Percent of the data folder's file system in use, as `df` reports it. */
  disk_usage: number | null;
}

interface GpuReading {
  util: number;
  temp: number;
  usedMiB: number;
  totalMiB: number;
}

const round1 = (value: number) => Math.round(value * 10) / 10;

function cpuTimes() {
  let busy = 0;
  let total = 0;
  for (const cpu of os.cpus()) {
    const { user, nice, sys, idle, irq } = cpu.times;
    busy += user + nice + sys + irq;
    total += user + nice + sys + idle + irq;
  }
  return { busy, total };
}

async function diskUsagePercent(dir: string): Promise<number | null> {
  // The data folder may not exist yet on a fresh install: measure the disk it will live on.
  for (let current = path.resolve(dir); ; current = path.dirname(current)) {
    try {
      const stats = await fs.statfs(current);
      const used = stats.blocks - stats.bfree;
      const usable = used + stats.bavail;
      return usable > 0 ? round1((used / usable) * 100) : null;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "ENOENT" || current === path.dirname(current)) return null;
    }
  }
}

/** GPUs as nvidia-smi reports them; `absent` once it turned out there is no nvidia-smi on this host. */
function queryNvidiaSmi(): Promise<GpuReading[] | "absent" | null> {
  return new Promise((resolve) => {
    execFile(
      "nvidia-smi",
      ["--query-gpu=utilization.gpu,temperature.gpu,memory.used,memory.total", "--format=csv,noheader,nounits"],
      { timeout: 2000 },
      (error, stdout) => {
        if (error) return resolve((error as NodeJS.ErrnoException).code === "ENOENT" ? "absent" : null);
        const gpus = stdout
          .trim()
          .split("\n")
          .map((line) => line.split(",").map((v) => Number(v.trim())))
          .filter((values) => values.length === 4 && values.every(Number.isFinite))
          .map(([util, temp, usedMiB, totalMiB]) => ({ util, temp, usedMiB, totalMiB }));
        resolve(gpus.length > 0 ? gpus : null);
      },
    );
  });
}

/**
 * Samples the host; each `sample()` reports CPU use since the previous one (the first: since the
 * sampler was made, or since boot with `sinceBoot`), so call it at a steady rate.
 */
export function createHostStatsSampler(dataDir: string, opts: { sinceBoot?: boolean } = {}) {
  let previousCpu = opts.sinceBoot ? { busy: 0, total: 0 } : cpuTimes();
  let nvidiaSmiPresent = true;

  return {
    async sample(): Promise<HostStats> {
      const cpu = cpuTimes();
      const totalDelta = cpu.total - previousCpu.total;
      const cpuLoad = totalDelta > 0 ? ((cpu.busy - previousCpu.busy) / totalDelta) * 100 : (os.loadavg()[0] / os.cpus().length) * 100;
      previousCpu = cpu;

      const [diskUsage, gpuReading] = await Promise.all([diskUsagePercent(dataDir), nvidiaSmiPresent ? queryNvidiaSmi() : Promise.resolve(null)]);
      if (gpuReading === "absent") nvidiaSmiPresent = false;
      const gpus = Array.isArray(gpuReading) ? gpuReading : null;
      const toGb = (mib: number) => round1(mib / 1024);
      return {
        gpu_util: gpus ? round1(gpus.reduce((s, g) => s + g.util, 0) / gpus.length) : null,
        gpu_temp: gpus ? Math.max(...gpus.map((g) => g.temp)) : null,
        vram_used: gpus ? toGb(gpus.reduce((s, g) => s + g.usedMiB, 0)) : null,
        vram_total: gpus ? toGb(gpus.reduce((s, g) => s + g.totalMiB, 0)) : null,
        cpu_load: round1(Math.min(100, Math.max(0, cpuLoad))),
        disk_usage: diskUsage,
      };
    },
  };
}

const samplers = new Map<string, ReturnType<typeof createHostStatsSampler>>();

/** Host figures for a request: CPU use since the previous call in this process (since boot on the first). */
export function currentHostStats(dataDir: string): Promise<HostStats> {
  let sampler = samplers.get(dataDir);
  if (!sampler) samplers.set(dataDir, (sampler = createHostStatsSampler(dataDir, { sinceBoot: true })));
  return sampler.sample();
}
