import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { experimentMetrics, experiments } from "@/db/schema";
import { controlV1Experiment, createV1Experiment, deleteV1Experiment, getV1ExperimentMetrics, listV1Experiments, renameV1Experiment } from "@/server/compat/studio-v1/experiments";
import { createDialectWorld, bearer, createTestExperiment, getRequest, jsonRequest, setExperimentState, routeContext, type DialectWorld } from "@/server/compat/shared/testing";

let w: DialectWorld;
const deps = () => ({ db: w.tdb.db, boss: w.boss });

beforeAll(async () => {
  w = await createDialectWorld();
}, 60_000);

afterAll(() => w?.close());

describe("seed 002 /api/v1/experiments", () => {
  it("creates (201, queued at once), lists by status, renames (204), controls and deletes (204)", async () => {
    const created = await createV1Experiment(
      jsonRequest("POST", "/api/v1/experiments", { name: "v1", task: "classify", dataset_id: w.datasetId, model_arch_id: "reference-cnn", hyperparams: { epochs: 3, batch_size: 4 } }, bearer(w.key)),
      deps(),
    );
    expect(created.status).toBe(201);
    const body = await created.json();
    expect(body).toMatchObject({ name: "v1", task: "classify", status: "queued", dataset_id: w.datasetId, model_arch_id: null, model: "reference-cnn", total_epochs: 3 });
    expect(body.hyperparams).toMatchObject({ epochs: 3, batch: 4 });
    const id = body.id as number;

    const queued = await (await listV1Experiments(getRequest("/api/v1/experiments?status=queued", bearer(w.key)), deps())).json();
    expect(queued.map((e: { id: number }) => e.id)).toContain(id);
    const running = await (await listV1Experiments(getRequest("/api/v1/experiments?status=running", bearer(w.key)), deps())).json();
    expect(running.map((e: { id: number }) => e.id)).not.toContain(id);
    expect((await listV1Experiments(getRequest("/api/v1/experiments?status=done", bearer(w.key)), deps())).status).toBe(400);

    const renamed = await renameV1Experiment(jsonRequest("PUT", `/api/v1/experiments/${id}`, { name: "New Name" }, bearer(w.key)), routeContext({ id: String(id) }, deps()));
    expect(renamed.status).toBe(204);
    expect((await w.tdb.db.select().from(experiments).where(eq(experiments.id, id)))[0].name).toBe("New Name");
    // The studio's limit, as its own rename and every other face apply it.
    const tooLong = await renameV1Experiment(jsonRequest("PUT", `/api/v1/experiments/${id}`, { name: "n".repeat(121) }, bearer(w.key)), routeContext({ id: String(id) }, deps()));
    expect(tooLong.status).toBe(400);
    expect((await tooLong.json()).errors).toEqual({ name: ["at most 120 characters"] });
    expect((await w.tdb.db.select().from(experiments).where(eq(experiments.id, id)))[0].name).toBe("New Name");

    await setExperimentState(w.tdb, id, { status: "running" });
    const refused = await deleteV1Experiment(new Request(`http://studio.test/api/v1/experiments/${id}`, { method: "DELETE", headers: bearer(w.key) }), routeContext({ id: String(id) }, deps()));
    expect(refused.status).toBe(422);

    const paused = await controlV1Experiment(jsonRequest("POST", `/api/v1/experiments/${id}/control`, { action: "pause" }, bearer(w.key)), routeContext({ id: String(id) }, deps()));
    expect((await paused.json()).status).toBe("pausing");
    // Paused after 2 of 3 epochs: resuming for 5 in all shows 2/5 = 40%, the share the run reports next.
    await setExperimentState(w.tdb, id, { status: "paused", currentEpoch: 2, totalEpochs: 3, progress: 66.7 });
    const resumed = await controlV1Experiment(jsonRequest("POST", `/api/v1/experiments/${id}/control`, { action: "resume", epochs: 5 }, bearer(w.key)), routeContext({ id: String(id) }, deps()));
    expect(await resumed.json()).toMatchObject({ status: "queued", total_epochs: 5 });
    expect((await w.tdb.db.select().from(experiments).where(eq(experiments.id, id)))[0].progress).toBeCloseTo(40, 5);
    const stopped = await controlV1Experiment(jsonRequest("POST", `/api/v1/experiments/${id}/control`, { action: "stop" }, bearer(w.key)), routeContext({ id: String(id) }, deps()));
    expect((await stopped.json()).status).toBe("stopped");
    const bad = await controlV1Experiment(jsonRequest("POST", `/api/v1/experiments/${id}/control`, { action: "restart" }, bearer(w.key)), routeContext({ id: String(id) }, deps()));
    expect(bad.status).toBe(400);

    const deleted = await deleteV1Experiment(new Request(`http://studio.test/api/v1/experiments/${id}`, { method: "DELETE", headers: bearer(w.key) }), routeContext({ id: String(id) }, deps()));
    expect(deleted.status).toBe(204);
  });

  it("returns the metric history as chart points and hides other teams' experiments", async () => {
    const { id } = await createTestExperiment(w, "v1-metrics");
    await w.tdb.db.insert(experimentMetrics).values([
      { experimentId: id, epoch: 1, step: 0, values: { train_loss: 0.9, val_loss: 1.1, top1_acc: 0.5 } },
      { experimentId: id, epoch: 1, step: 5, values: { train_loss: 0.95 } },
      { experimentId: id, epoch: 2, step: 0, values: { train_loss: 0.6, val_loss: 0.7, top1_acc: 0.75 } },
    ]);
    const res = await getV1ExperimentMetrics(getRequest(`/api/v1/experiments/${id}/metrics`, bearer(w.key)), routeContext({ id: String(id) }, deps()));
    expect(await res.json()).toEqual([
      { epoch: 1, train_loss: 0.9, val_loss: 1.1, val_metric: 0.5 },
      { epoch: 2, train_loss: 0.6, val_loss: 0.7, val_metric: 0.75 },
    ]);
    const other = await getV1ExperimentMetrics(getRequest(`/api/v1/experiments/${id}/metrics`, bearer(w.otherKey)), routeContext({ id: String(id) }, deps()));
    expect(other.status).toBe(404);
    expect(await other.json()).toEqual({ detail: `Experiment ${id} not found` });
    expect((await listV1Experiments(getRequest("/api/v1/experiments"), deps())).status).toBe(401);
  });

  it("answers 422 for a duplicate name", async () => {
    await createTestExperiment(w, "taken");
    const res = await createV1Experiment(jsonRequest("POST", "/api/v1/experiments", { name: "taken", dataset_id: w.datasetId, model_arch_id: "reference-cnn" }, bearer(w.key)), deps());
    expect(res.status).toBe(422);
  });
});
