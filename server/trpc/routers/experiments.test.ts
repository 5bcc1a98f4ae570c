import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createDialectWorld, setExperimentState, type DialectWorld } from "@/server/compat/shared/testing";
import { env } from "@/server/env";
import { createExperiment } from "@/server/experiments/lifecycle";
import { createCallerFactory } from "../init";
import { appRouter } from "../root";

let w: DialectWorld;

beforeAll(async () => {
  w = await createDialectWorld();
}, 60_000);
afterAll(() => w?.close());

describe("experiments through tRPC", () => {
  it("show the run folder relative to the storage root, never the server's path", async () => {
    const { id } = await createExperiment(w.ctx, { projectId: w.defaultProjectId, name: "where", datasetId: w.datasetId, model: "reference-cnn" }, { boss: w.boss });
    await setExperimentState(w.tdb, id, { status: "completed", runDir: path.join(env().dataDir, "runs", "default", "where") });
    const caller = createCallerFactory(appRouter)({ db: w.tdb.db, caller: w.ctx.caller, mutationRefusal: null });
    expect((await caller.experiments.byId({ id })).runDir).toBe(path.join("runs", "default", "where"));
    expect((await caller.experiments.list({})).find((e) => e.id === id)?.runDir).toBe(path.join("runs", "default", "where"));
    const other = await createExperiment(w.ctx, { projectId: w.defaultProjectId, name: "elsewhere", datasetId: w.datasetId, model: "reference-cnn" }, { boss: w.boss });
    expect((await caller.experiments.compare({ ids: [id, other.id] }))[0].experiment.runDir).toBe(path.join("runs", "default", "where"));
  });
});
