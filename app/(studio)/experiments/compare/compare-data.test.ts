import { describe, expect, it } from "vitest";
import { compareCsv, differingKeys, groupRuns, type CompareRun } from "./compare-data";

const run = (id: number, hyperparameters: Record<string, unknown>, bestMetrics: Record<string, number>): CompareRun => ({ id, name: `run ${id}`, model: "yolov8n", status: "completed", hyperparameters, bestMetrics });
const runs = [run(1, { lr0: 0.01, seed: 0, epochs: 10 }, { mAP50: 0.5 }), run(2, { lr0: 0.01, seed: 1, epochs: 10 }, { mAP50: 0.7 }), run(3, { lr0: 0.001, seed: 0, epochs: 10 }, { mAP50: 0.4 })];

describe("compare table", () => {
  it("keeps only the settings that differ between runs", () => {
    expect(differingKeys(runs, ["epochs", "lr0", "seed"])).toEqual(["lr0", "seed"]);
    expect(differingKeys([run(1, { a: 1 }, {}), run(2, {}, {})], ["a"])).toEqual(["a"]);
  });

  it("groups runs by a setting with the mean and sample std of each best metric across seeds", () => {
    const [first, second] = groupRuns(runs, "lr0", ["mAP50"]);
    expect(first).toMatchObject({ value: "0.01", runs: [1, 2], metrics: { mAP50: { mean: expect.closeTo(0.6, 12), std: expect.closeTo(Math.sqrt(0.02), 12), n: 2 } } });
    expect(second).toMatchObject({ value: "0.001", runs: [3], metrics: { mAP50: { mean: 0.4, std: null, n: 1 } } });
  });

  it("exports one CSV row per run, quoting what needs it", () => {
    const csv = compareCsv([run(1, { lr0: 0.01, note: 'a "b", c' }, { mAP50: 0.5 }), run(2, {}, {})], ["lr0", "note"], ["mAP50"]);
    expect(csv).toBe('id,name,model,status,lr0,note,best_mAP50\r\n1,run 1,yolov8n,completed,0.01,"a ""b"", c",0.5\r\n2,run 2,yolov8n,completed,,,\r\n');
  });
});
