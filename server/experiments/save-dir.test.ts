import { mkdir, mkdtemp, readFile, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { copyRunResults } from "./save-dir";

async function runFolder(): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), "run-"));
  await mkdir(path.join(dir, "weights"));
  await writeFile(path.join(dir, "weights", "best.ckpt"), "best");
  await writeFile(path.join(dir, "weights", "last.ckpt"), "last");
  await writeFile(path.join(dir, "args.json"), "{}");
  await writeFile(path.join(dir, "results.csv"), "epoch\n1\n");
  await mkdir(path.join(dir, "plots"));
  await writeFile(path.join(dir, "plots", "results.png"), "png");
  await writeFile(path.join(dir, "notes.txt"), "not a result");
  return dir;
}

describe("copyRunResults", () => {
  it("copies weights, args, results and plots into the folder, replacing older copies, and nothing else", async () => {
    const run = await runFolder();
    const save = await mkdtemp(path.join(os.tmpdir(), "save-"));
    await mkdir(path.join(save, "weights"));
    await writeFile(path.join(save, "weights", "best.ckpt"), "an older run");
    expect(await copyRunResults(run, save)).toEqual(["weights", "args.json", "results.csv", "plots"]);
    expect(await readFile(path.join(save, "plots", "results.png"), "utf8")).toBe("png");
    expect(await readFile(path.join(save, "weights", "best.ckpt"), "utf8")).toBe("best");
    expect(await readFile(path.join(save, "weights", "last.ckpt"), "utf8")).toBe("last");
    expect(await readFile(path.join(save, "results.csv"), "utf8")).toBe("epoch\n1\n");
    await expect(readFile(path.join(save, "notes.txt"))).rejects.toThrow();
  });

  it("refuses a run folder without weights, naming both folders", async () => {
    const run = await mkdtemp(path.join(os.tmpdir(), "run-"));
    const save = await mkdtemp(path.join(os.tmpdir(), "save-"));
    await expect(copyRunResults(run, save)).rejects.toThrow(new RegExp(`${run}.*${save}`));
  });
});
