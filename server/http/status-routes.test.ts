import http from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createApiKey, revokeApiKey } from "@/server/auth/api-keys";
import { getJob } from "@/server/compat/recognition/jobs";
import { getV1Experiment } from "@/server/compat/studio-v1/experiments";
import { getTaskStatus } from "@/server/compat/task-status/handlers";
import { bearer, createDialectWorld, getRequest, setExperimentState, type DialectWorld, routeContext } from "@/server/compat/shared/testing";
import { getTraining } from "@/server/compat/training-metrics/handlers";
import { taskStatus } from "@/server/compat/training-module/handlers";
import { createExperiment } from "@/server/experiments/lifecycle";
import { appendLog, unleased } from "@/server/experiments/lease";
import { createFastRouter } from "./fast-routes";
import { statusRoutes } from "./status-routes";

let w: DialectWorld;
let server: http.Server;
let base: string;
let experimentId: number;

beforeAll(async () => {
  w = await createDialectWorld();
  const deps = { db: w.tdb.db };
  const answerFast = createFastRouter(statusRoutes(deps), "http://studio.test");
  server = http.createServer((req, res) => {
    if (!answerFast(req, res)) res.writeHead(299).end("next");
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const experiment = await createExperiment(w.ctx, { projectId: w.defaultProjectId, name: "polled", datasetId: w.datasetId, model: "reference-cnn", hyperparameters: { epochs: 4 } }, { boss: w.boss });
  experimentId = experiment.id;
}, 60_000);

afterAll(async () => {
  await new Promise<void>((resolve) => server?.close(() => resolve()));
  await w?.close();
});

/** Each fast route beside the handler its Next route file calls with the same request. */
function pairs(id: number) {
  const deps = { db: w.tdb.db };
  return [
    { path: `/task_status/${id}`, direct: (req: Request) => getTaskStatus(req, routeContext({ task_id: String(id) }, deps)) },
    { path: `/api/v2/training/${id}`, direct: (req: Request) => getTraining(req, routeContext({ task_id: String(id) }, deps)) },
    { path: `/api/v1/experiments/${id}`, direct: (req: Request) => getV1Experiment(req, routeContext({ id: String(id) }, deps)) },
    { path: `/training/task_status/default/${id}`, direct: (req: Request) => taskStatus(req, routeContext({ project_name: "default", task_id: String(id) }, deps)) },
    { path: `/train/${id}`, direct: (req: Request) => getJob(req, routeContext({ job_id: String(id) }, deps)) },
  ];
}

async function sameAnswers(headers: Record<string, string>, id = experimentId): Promise<number[]> {
  const statuses: number[] = [];
  for (const { path, direct } of pairs(id)) {
    const fast = await fetch(base + path, { headers });
    const expected = await direct(getRequest(path, headers));
    expect(fast.status, path).toBe(expected.status);
    expect(fast.headers.get("content-type"), path).toBe(expected.headers.get("content-type"));
    expect(await fast.json(), path).toEqual(await expected.json());
    statuses.push(fast.status);
  }
  return statuses;
}

describe("the old dialects' status routes before Next", () => {
  it("answer the team's own key exactly as the route handlers do", async () => {
    expect(await sameAnswers(bearer(w.key))).toEqual([200, 200, 200, 200, 200]);
  });

  it("report a running task's progress and the stage of its latest log line", async () => {
    await setExperimentState(w.tdb, experimentId, { status: "running" });
    await appendLog(w.tdb.db, unleased(experimentId, w.teamId), { level: "info", stage: "validation", message: "epoch 1 validation" });
    await setExperimentState(w.tdb, experimentId, { status: "running", currentEpoch: 1, totalEpochs: 4, progress: 25 });
    const body = (await (await fetch(`${base}/task_status/${experimentId}`, { headers: bearer(w.key) })).json()) as { data: { result: { stage: string; progress: string } } };
    expect(body.data.result).toMatchObject({ stage: "validation", progress: "25.0%" });
    await sameAnswers(bearer(w.key));
  });

  it("refuse a missing credential and hide another team's task, in each dialect's envelope", async () => {
    expect(await sameAnswers({})).toEqual([401, 401, 401, 401, 401]);
    // Seed 004 answers an unknown task as its document answers failures: HTTP 500.
    expect(await sameAnswers(bearer(w.otherKey))).toEqual([500, 404, 404, 404, 404]);
  });

  it("stop accepting a key as soon as it is revoked", async () => {
    const { id, key } = await createApiKey(w.ctx, { name: "short-lived" });
    expect((await fetch(`${base}/task_status/${experimentId}`, { headers: bearer(key) })).status).toBe(200);
    await revokeApiKey(w.ctx, { id });
    expect((await fetch(`${base}/task_status/${experimentId}`, { headers: bearer(key) })).status).toBe(401);
  });

  it("leave non-numeric ids (and Next's static sibling routes) to Next", async () => {
    for (const path of ["/api/v2/training/start", "/task_status/abc", "/train/x1", "/api/v1/experiments/1.5"]) {
      expect((await fetch(base + path, { headers: bearer(w.key) })).status, path).toBe(299);
    }
  });
});
