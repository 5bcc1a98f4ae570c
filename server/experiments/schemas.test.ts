import { describe, expect, it } from "vitest";
import { defaultHyperparameters, hyperparametersSchema } from "./schemas";

describe("experiment hyperparameters", () => {
  it("take the detection and threading settings of the engine", () => {
    const parsed = hyperparametersSchema.parse({ mosaic: 0.5, close_mosaic: 3, workers: 2, micro_batch: "auto" });
    expect(parsed).toMatchObject({ mosaic: 0.5, close_mosaic: 3, workers: 2, micro_batch: "auto" });
    expect(defaultHyperparameters()).toMatchObject({ mosaic: 1, close_mosaic: 10, workers: "auto", micro_batch: "auto" });
  });

  it("name the field of a bad value and refuse keys the engine does not know", () => {
    const bad = hyperparametersSchema.safeParse({ mosaic: 2 });
    expect(bad.success).toBe(false);
    expect(bad.error?.issues[0]).toMatchObject({ path: ["mosaic"], message: "mosaic must be in [0, 1]" });
    const unknown = hyperparametersSchema.safeParse({ mosiac: 0.5 });
    expect(unknown.success).toBe(false);
    expect(unknown.error?.issues[0]).toMatchObject({ code: "unrecognized_keys", keys: ["mosiac"] });
  });
});
