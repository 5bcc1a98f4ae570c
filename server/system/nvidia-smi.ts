import { execFile } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import type { GpuReading } from "@/db/schema";

/** What `--query-gpu` asks for, in this order (`nvidia-smi --help-query-gpu` names them). */
export const GPU_QUERY_FIELDS = [
  "index",
  "uuid",
  "name",
  "utilization.gpu",
  "utilization.memory",
  "memory.used",
  "memory.total",
  "temperature.gpu",
  "power.draw",
  "power.limit",
  "clocks.sm",
  "clocks.mem",
  "fan.speed",
] as const;

export const GPU_QUERY_ARGS = [`--query-gpu=${GPU_QUERY_FIELDS.join(",")}`, "--format=csv,noheader,nounits"];
export const COMPUTE_APPS_ARGS = ["--query-compute-apps=pid,gpu_uuid,used_memory", "--format=csv,noheader,nounits"];

/** "[N/A]", "[Not Supported]", "N/A" or an empty cell: the card does not report it. */
function figure(cell: string | undefined): number | null {
  const text = (cell ?? "").trim();
  if (text === "" || /^\[?(N\/A|Not Supported|Unknown Error|Insufficient Permissions)\]?$/i.test(text)) return null;
  const value = Number(text);
  return Number.isFinite(value) ? value : null;
}

/**
 * Rows of `nvidia-smi --query-gpu=<GPU_QUERY_FIELDS> --format=csv,noheader,nounits`. nvidia-smi does
 * not quote cells, so a name holding commas spreads over several: everything between uuid and the
 * trailing numeric fields is the name.
 */
export function parseGpuCsv(stdout: string): Omit<GpuReading, "processes">[] {
  const trailing = GPU_QUERY_FIELDS.length - 3;
  const gpus: Omit<GpuReading, "processes">[] = [];
  for (const line of stdout.split(/\r?\n/)) {
    if (!line.trim()) continue;
    const cells = line.split(",").map((c) => c.trim());
    if (cells.length < GPU_QUERY_FIELDS.length) continue;
    const index = figure(cells[0]);
    if (index === null || !Number.isInteger(index)) continue;
    const numbers = cells.slice(cells.length - trailing).map(figure);
    const [utilPercent, memoryUtilPercent, memoryUsedMiB, memoryTotalMiB, temperatureC, powerW, powerLimitW, smClockMHz, memoryClockMHz, fanPercent] = numbers;
    gpus.push({
      index,
      uuid: cells[1] && !/N\/A/.test(cells[1]) ? cells[1] : null,
      name: cells.slice(2, cells.length - trailing).join(", "),
      utilPercent,
      memoryUtilPercent,
      memoryUsedMiB,
      memoryTotalMiB,
      temperatureC,
      powerW,
      powerLimitW,
      smClockMHz,
      memoryClockMHz,
      fanPercent,
    });
  }
  return gpus;
}

export interface ComputeApp {
  pid: number;
  gpuUuid: string;
  usedMiB: number | null;
}

/** Rows of `nvidia-smi --query-compute-apps=pid,gpu_uuid,used_memory --format=csv,noheader,nounits`. */
export function parseComputeAppsCsv(stdout: string): ComputeApp[] {
  const apps: ComputeApp[] = [];
  for (const line of stdout.split(/\r?\n/)) {
    const cells = line.split(",").map((c) => c.trim());
    if (cells.length < 3) continue;
    const pid = figure(cells[0]);
    if (pid === null || !Number.isInteger(pid) || pid <= 0) continue;
    apps.push({ pid, gpuUuid: cells[1], usedMiB: figure(cells[2]) });
  }
  return apps;
}

/** Attaches each compute process to its GPU (by uuid) and to the run owning its pid. */
export function attachProcesses(gpus: Omit<GpuReading, "processes">[], apps: ComputeApp[], runByPid: ReadonlyMap<number, number>): GpuReading[] {
  return gpus.map((gpu) => ({
    ...gpu,
    processes: apps.filter((app) => app.gpuUuid === gpu.uuid).map((app) => ({ pid: app.pid, usedMiB: app.usedMiB, experimentId: runByPid.get(app.pid) ?? null })),
  }));
}

/** Runs a program; resolves its stdout, rejects with ENOENT when it is not installed. */
export type RunProgram = (program: string, args: string[]) => Promise<string>;

export const runProgram: RunProgram = (program, args) =>
  new Promise((resolve, reject) => {
    execFile(program, args, { timeout: 2500, maxBuffer: 1 << 20 }, (error, stdout, stderr) => {
      if (error) {
        const message = String(stderr || "").trim().split("\n")[0] || error.message;
        return reject(Object.assign(new Error(message), { code: (error as NodeJS.ErrnoException).code }));
      }
      resolve(stdout);
    });
  });

/** True when `program` is an executable file on PATH. */
export function onPath(program: string, searchPath: string): boolean {
  return searchPath
    .split(path.delimiter)
    .filter(Boolean)
    .some((dir) => {
      try {
        fs.accessSync(path.join(dir, program), fs.constants.X_OK);
        return true;
      } catch {
        return false;
      }
    });
}

export type GpuRead = { gpus: GpuReading[]; unavailable: null } | { gpus: []; unavailable: string };

/**
 * The host's GPUs from nvidia-smi, with their compute processes. Without nvidia-smi nothing is
 * guessed: the reason says what is missing (lspci too, which systeminformation needs to list GPUs).
 */
export async function readGpus(opts: { run?: RunProgram; hasProgram: (program: string) => boolean; runByPid: ReadonlyMap<number, number> }): Promise<GpuRead> {
  const run = opts.run ?? runProgram;
  if (!opts.hasProgram("nvidia-smi")) {
    const lspci = opts.hasProgram("lspci") ? "" : "; lspci is missing too, so systeminformation cannot list GPUs either";
    return { gpus: [], unavailable: `no GPU figures: nvidia-smi is not installed on this host${lspci}` };
  }
  let gpuCsv: string;
  try {
    gpuCsv = await run("nvidia-smi", GPU_QUERY_ARGS);
  } catch (error) {
    return { gpus: [], unavailable: `nvidia-smi failed: ${(error as Error).message}` };
  }
  const gpus = parseGpuCsv(gpuCsv);
  if (gpus.length === 0) return { gpus: [], unavailable: "nvidia-smi reports no GPU" };
  // A driver that cannot list processes still gives the cards' own figures.
  const apps = await run("nvidia-smi", COMPUTE_APPS_ARGS).then(parseComputeAppsCsv, () => []);
  return { gpus: attachProcesses(gpus, apps, opts.runByPid), unavailable: null };
}
