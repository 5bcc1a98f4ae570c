import { mkdtemp, readFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import type { ConvSpec } from "./conv-grads";
import type { ChoicePoint } from "./emitter";
import { chooseFormulations, clearFormulationMemory, defaultCacheDir, hostKey } from "./formulations";
import { choiceKey } from "./train-graph";

const spec: ConvSpec = { n: 4, c: 8, h: 12, w: 12, co: 8, kh: 3, kw: 3, sh: 1, sw: 1, pads: [1, 1, 1, 1], group: 1, ho: 12, wo: 12 };
const points: ChoicePoint[] = [
  { kind: "conv-dw", spec, candidates: ["im2col", "tap", "nhwc", "conv"] },
  { kind: "conv-dx", spec, candidates: ["flip", "convT"] },
  { kind: "conv-dx", spec: { ...spec, sh: 2, sw: 2, ho: 6, wo: 6, pads: [0, 0, 1, 1] }, candidates: ["convT"] },
];
const target = { provider: "cpu" as const, deviceId: 0, threads: 1 };

describe("formulations chosen by timing", () => {
  it("times every candidate, caches the choice per host and shape on disk, and reads it back", async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), "ort-forms-"));
    clearFormulationMemory();
    const logs: string[] = [];
    const first = await chooseFormulations(points, { target, cacheDir: dir, budgetMs: 20, log: (m) => logs.push(m) });
    // Points with one candidate are not measured.
    expect([...first.keys()]).toEqual([choiceKey(points[0]), choiceKey(points[1])]);
    for (const [key, choice] of first) {
      const point = points.find((p) => choiceKey(p) === key)!;
      expect(Object.keys(choice.ms).sort()).toEqual([...point.candidates].sort());
      expect(choice.ms[choice.choice]).toBe(Math.min(...Object.values(choice.ms)));
    }
    expect(logs).toHaveLength(2);
    const file = JSON.parse(await readFile(path.join(dir, "ort-formulations.json"), "utf8"));
    expect(file.hosts[hostKey(target)][choiceKey(points[0])].choice).toBe(first.get(choiceKey(points[0]))!.choice);

    // A new process (memory cleared) reads the disk cache instead of measuring again.
    clearFormulationMemory();
    const again = await chooseFormulations(points, { target, cacheDir: dir, budgetMs: 20, log: (m) => logs.push(m) });
    expect(logs).toHaveLength(2);
    expect([...again].map(([k, v]) => [k, v.choice])).toEqual([...first].map(([k, v]) => [k, v.choice]));
  });

  it("keys timings by host, provider and threads; caches under the OS cache folder by default", () => {
    expect(hostKey(target)).toContain(os.hostname());
    expect(hostKey(target)).not.toBe(hostKey({ ...target, threads: 2 }));
    expect(hostKey({ provider: "cuda", deviceId: 1 })).toContain("cuda:1");
    expect(defaultCacheDir()).toMatch(/training-studio$/);
  });
});
