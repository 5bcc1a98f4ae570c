import fs from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { COMPUTE_APPS_ARGS, GPU_QUERY_ARGS, parseComputeAppsCsv, parseGpuCsv, readGpus, type RunProgram } from "./nvidia-smi";

const fixture = (name: string) => fs.readFileSync(path.join(import.meta.dirname, "fixtures", name), "utf8");

/** nvidia-smi as the sampler calls it, answered from the recorded files. */
function recorded(gpus: string, apps: string): RunProgram {
  return async (program, args) => {
    expect(program).toBe("nvidia-smi");
    if (args.join(" ") === GPU_QUERY_ARGS.join(" ")) return fixture(gpus);
    if (args.join(" ") === COMPUTE_APPS_ARGS.join(" ")) return fixture(apps);
    throw new Error(`unexpected nvidia-smi ${args.join(" ")}`);
  };
}

describe("nvidia-smi CSV", () => {
  it("reads every GPU's figures, in MiB, °C, W and MHz as nvidia-smi prints them", () => {
    const [first, second] = parseGpuCsv(fixture("nvidia-smi-gpus-2xa100.csv"));
    expect(first).toEqual({
      index: 0,
      uuid: "GPU-4b5e2d0c-7a1f-3c55-9b0e-1f2a3b4c5d6e",
      name: "NVIDIA A100-SXM4-40GB",
      utilPercent: 87,
      memoryUtilPercent: 41,
      memoryUsedMiB: 31245,
      memoryTotalMiB: 40960,
      temperatureC: 64,
      powerW: 287.45,
      powerLimitW: 400,
      smClockMHz: 1410,
      memoryClockMHz: 1215,
      fanPercent: null,
    });
    expect(second.index).toBe(1);
    expect(second.utilPercent).toBe(0);
  });

  it("turns [Not Supported] and [N/A] into null, never into 0", () => {
    const [gpu] = parseGpuCsv(fixture("nvidia-smi-gpus-rtx3080.csv"));
    expect(gpu.name).toBe("NVIDIA GeForce RTX 3080");
    expect(gpu.powerW).toBeNull();
    expect(gpu.powerLimitW).toBeNull();
    expect(gpu.fanPercent).toBe(38);
  });

  it("keeps a name with commas whole and skips lines that are not GPU rows", () => {
    const line = "2, GPU-x, Tesla K80, rev 2, 10, 5, 100, 11441, 40, 60.1, 149.0, 562, 2505, [N/A]";
    const gpus = parseGpuCsv(`No devices were found\n\n${line}\n`);
    expect(gpus).toHaveLength(1);
    expect(gpus[0]).toMatchObject({ index: 2, name: "Tesla K80, rev 2", utilPercent: 10, memoryTotalMiB: 11441 });
  });

  it("reads compute processes and maps them to GPUs by uuid and to runs by pid", async () => {
    expect(parseComputeAppsCsv(fixture("nvidia-smi-compute-apps.csv"))).toEqual([
      { pid: 48211, gpuUuid: "GPU-4b5e2d0c-7a1f-3c55-9b0e-1f2a3b4c5d6e", usedMiB: 30980 },
      { pid: 48390, gpuUuid: "GPU-4b5e2d0c-7a1f-3c55-9b0e-1f2a3b4c5d6e", usedMiB: 210 },
    ]);
    const read = await readGpus({ run: recorded("nvidia-smi-gpus-2xa100.csv", "nvidia-smi-compute-apps.csv"), hasProgram: () => true, runByPid: new Map([[48211, 17]]) });
    expect(read.unavailable).toBeNull();
    expect(read.gpus[0].processes).toEqual([
      { pid: 48211, usedMiB: 30980, experimentId: 17 },
      { pid: 48390, usedMiB: 210, experimentId: null },
    ]);
    expect(read.gpus[1].processes).toEqual([]);
  });
});

describe("a host without a GPU", () => {
  it("reports no GPU and says why when nvidia-smi and lspci are missing", async () => {
    const run: RunProgram = async () => {
      throw new Error("must not run anything");
    };
    const read = await readGpus({ run, hasProgram: () => false, runByPid: new Map() });
    expect(read.gpus).toEqual([]);
    expect(read.unavailable).toMatch(/nvidia-smi is not installed.*lspci is missing/);
  });

  it("passes nvidia-smi's own complaint on when the driver is not loaded", async () => {
    const run: RunProgram = async () => {
      throw new Error("NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver.");
    };
    const read = await readGpus({ run, hasProgram: (p) => p === "nvidia-smi", runByPid: new Map() });
    expect(read).toEqual({ gpus: [], unavailable: expect.stringContaining("couldn't communicate with the NVIDIA driver") });
  });
});
