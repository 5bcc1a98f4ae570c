import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { getJob, listJobs, startJob, stopJob } from "@/server/compat/recognition/jobs";
import { createDialectWorld, bearer, getRequest, jsonRequest, routeContext, type DialectWorld } from "@/server/compat/shared/testing";

let w: DialectWorld;
const deps = () => ({ db: w.tdb.db, boss: w.boss });

beforeAll(async () => {
  w = await createDialectWorld();
}, 60_000);

afterAll(() => w?.close());

describe("seed 003 /train", () => {
  it("starts a job on the default project's dataset, reports it, lists it and stops it", async () => {
    const started = await startJob(jsonRequest("POST", "/train", { model_id: "reference-cnn", epochs: 4 }, bearer(w.key)), deps());
    expect(started.status).toBe(200);
    const job = await started.json();
    expect(job).toMatchObject({ job_id: expect.stringMatching(/^\d+$/), model_id: "reference-cnn", status: "pending", progress: 0, message: "训练任务已启动" });
    expect(job.metrics).toEqual({ current_epoch: 0, total_epochs: 4, last_updated: expect.any(String) });

    const fetched = await (await getJob(getRequest(`/train/${job.job_id}`, bearer(w.key)), routeContext({ job_id: job.job_id }, deps()))).json();
    expect(fetched.job_id).toBe(job.job_id);
    const list = await (await listJobs(getRequest("/train", bearer(w.key)), deps())).json();
    expect(list.map((j: { job_id: string }) => j.job_id)).toContain(job.job_id);

    const stopped = await stopJob(new Request(`http://studio.test/train/${job.job_id}`, { method: "DELETE", headers: bearer(w.key) }), routeContext({ job_id: job.job_id }, deps()));
    expect(await stopped.json()).toMatchObject({ job_id: job.job_id, status: "stopped", message: "训练任务已停止" });
    const other = await getJob(getRequest(`/train/${job.job_id}`, bearer(w.otherKey)), routeContext({ job_id: job.job_id }, deps()));
    expect(other.status).toBe(404);
  });

  it("refuses an unknown model with 400 naming the zoo's models", async () => {
    const res = await startJob(jsonRequest("POST", "/train", { model_id: "mobilenet_v9" }, bearer(w.key)), deps());
    expect(res.status).toBe(400);
    expect((await res.json()).detail).toMatch(/mobilenet_v9.*available/);
  });
});
