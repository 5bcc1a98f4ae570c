import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import si from "systeminformation";
import type { RunProcessReading, SystemSampleRow } from "@/db/schema";
import { commandEnvironment } from "@/server/env";
import { onPath, readGpus, type RunProgram } from "./nvidia-smi";

/** What one sample holds: a system_samples row without its key. */
export type HostSample = Omit<SystemSampleRow, "host" | "at">;

/** Disk usage changes slowly and `fsSize` starts `df`: read it this often, not every second. */
const DISK_REFRESH_MS = 30_000;
/** Linux reports process times in USER_HZ ticks, fixed at 100 per second for user space. */
const USER_HZ = 100;

const round1 = (value: number) => Math.round(value * 10) / 10;
const round2 = (value: number) => Math.round(value * 100) / 100;

interface ProcessTimes {
  ticks: number;
  at: number;
}

/** utime + stime of a process from /proc (Linux); null where there is no /proc or the process is gone. */
async function processTicks(pid: number): Promise<number | null> {
  try {
    const stat = await fs.readFile(`/proc/${pid}/stat`, "utf8");
    // The command name (field 2) may hold spaces and parentheses: count fields after its last ")".
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return Number(fields[11]) + Number(fields[12]);
  } catch {
    return null;
  }
}

async function processRssBytes(pid: number): Promise<number | null> {
  try {
    const status = await fs.readFile(`/proc/${pid}/status`, "utf8");
    const kb = /^VmRSS:\s+(\d+)\s+kB/m.exec(status);
    return kb ? Number(kb[1]) * 1024 : null;
  } catch {
    return null;
  }
}

/** The mounted file system holding `dir`: the longest mount point that is a prefix of it. */
function fileSystemOf(mounts: si.Systeminformation.FsSizeData[], dir: string) {
  const resolved = path.resolve(dir);
  return mounts
    .filter((m) => m.mount && (resolved === m.mount || resolved.startsWith(m.mount.endsWith(path.sep) ? m.mount : m.mount + path.sep)))
    .sort((a, b) => b.mount.length - a.mount.length)[0];
}

export interface HostSamplerOptions {
  /** The storage root: its file system is the disk reported. */
  dataDir: string;
  /** Runs with a process on this host: experiment id → pid. */
  runs(): ReadonlyMap<number, number>;
  /** Tests hand in recorded nvidia-smi output. */
  runProgram?: RunProgram;
  hasProgram?: (program: string) => boolean;
}

/**
 * Reads the host's figures. systeminformation reports CPU use since its previous call, so one
 * collector per host, called at a steady rate (the sampler's 1 s tick).
 */
export function createHostCollector(options: HostSamplerOptions) {
  const hasProgram = options.hasProgram ?? ((program: string) => onPath(program, commandEnvironment().PATH ?? ""));
  const previousTimes = new Map<number, ProcessTimes>();
  let disk: { used: number; total: number; at: number } | null = null;

  async function diskFigures(): Promise<{ used: number; total: number } | null> {
    if (disk && Date.now() - disk.at < DISK_REFRESH_MS) return disk;
    const mounts = await si.fsSize().catch(() => []);
    const fsys = fileSystemOf(mounts, options.dataDir);
    disk = fsys ? { used: fsys.used, total: fsys.size, at: Date.now() } : null;
    return disk;
  }

  /** `gpuMemoryByPid` null: nvidia-smi gave nothing, so a run's GPU memory is unknown rather than 0. */
  async function runProcesses(runs: ReadonlyMap<number, number>, gpuMemoryByPid: Map<number, number> | null): Promise<RunProcessReading[]> {
    const now = Date.now();
    const readings: RunProcessReading[] = [];
    for (const [experimentId, pid] of runs) {
      const [ticks, rssBytes] = await Promise.all([processTicks(pid), processRssBytes(pid)]);
      const before = previousTimes.get(pid);
      const cpuPercent = ticks !== null && before && now > before.at ? round1(((ticks - before.ticks) / USER_HZ / ((now - before.at) / 1000)) * 100) : null;
      if (ticks !== null) previousTimes.set(pid, { ticks, at: now });
      readings.push({ experimentId, pid, cpuPercent, rssBytes, gpuMemoryMiB: gpuMemoryByPid ? (gpuMemoryByPid.get(pid) ?? 0) : null });
    }
    for (const pid of previousTimes.keys()) if (![...runs.values()].includes(pid)) previousTimes.delete(pid);
    return readings;
  }

  return {
    async collect(): Promise<HostSample> {
      const runs = options.runs();
      const runByPid = new Map([...runs].map(([experimentId, pid]) => [pid, experimentId]));
      const [load, mem, net, diskUse, gpuRead] = await Promise.all([
        si.currentLoad(),
        si.mem(),
        si.networkStats("*").catch(() => []),
        diskFigures(),
        readGpus({ run: options.runProgram, hasProgram, runByPid }),
      ]);
      const gpuMemoryByPid = new Map<number, number>();
      for (const gpu of gpuRead.gpus) for (const p of gpu.processes) gpuMemoryByPid.set(p.pid, (gpuMemoryByPid.get(p.pid) ?? 0) + (p.usedMiB ?? 0));
      const external = net.filter((n) => n.iface !== "lo" && n.operstate !== "down");
      const rate = (key: "rx_sec" | "tx_sec") => (external.some((n) => typeof n[key] === "number" && n[key] >= 0) ? round1(external.reduce((s, n) => s + Math.max(0, n[key] ?? 0), 0)) : null);
      const [load1, load5, load15] = os.loadavg();
      return {
        cpuPercent: round1(load.currentLoad),
        cpuCores: load.cpus.map((c) => round1(c.load)),
        load1: round2(load1),
        load5: round2(load5),
        load15: round2(load15),
        memoryUsed: mem.total - mem.available,
        memoryTotal: mem.total,
        memoryAvailable: mem.available,
        swapUsed: mem.swapused,
        swapTotal: mem.swaptotal,
        diskUsed: diskUse?.used ?? null,
        diskTotal: diskUse?.total ?? null,
        netRxBytesPerSecond: rate("rx_sec"),
        netTxBytesPerSecond: rate("tx_sec"),
        gpus: gpuRead.gpus,
        gpuUnavailable: gpuRead.unavailable,
        runs: await runProcesses(runs, gpuRead.unavailable === null ? gpuMemoryByPid : null),
      };
    },
  };
}
