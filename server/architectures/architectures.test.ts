import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { seedMemberAndOutsider } from "@/db/testing/fixtures";
import { createTestDb, type TestDb } from "@/db/testing/test-db";
import { createApiKey } from "@/server/auth/api-keys";
import { createV1Architecture, deleteV1Architecture, listV1Architectures, updateV1Architecture } from "@/server/compat/studio-v1/architectures";
import type { Ctx } from "@/server/context";
import { Invalid, NotFound } from "@/server/errors";
import { zooGraph } from "@/server/ml/zoo/index";
import { defaultProject } from "@/server/projects/service";
import { saveTrainingConfig, listTrainingConfigs, deleteTrainingConfig } from "@/server/training-configs/service";
import { analyzeArchitecture, createArchitecture, getArchitecture } from "./service";
import { routeContext } from "@/server/compat/shared/testing";

let tdb: TestDb;
let member: Ctx;
let outsider: Ctx;
let key: string;
let projectId: number;

const graph = () => zooGraph("reference-cnn", { imgsz: 32, numClasses: 3 }) as unknown as { nodes: Record<string, unknown>[]; edges: Record<string, unknown>[] };
/** Dense straight after a convolution: the compiler must name the Dense node. */
const brokenGraph = {
  nodes: [
    { id: "in", type: "Input" },
    { id: "c1", type: "Conv2d", data: { out: 8, k: 3 } },
    { id: "fc", type: "Linear", data: { out: 3 } },
  ],
  edges: [
    { source: "in", target: "c1" },
    { source: "c1", target: "fc" },
  ],
};

beforeAll(async () => {
  tdb = await createTestDb();
  ({ member, outsider } = await seedMemberAndOutsider(tdb.db));
  projectId = (await defaultProject(member)).id;
  key = (await createApiKey(member, { name: "v1" })).key;
});
afterAll(async () => {
  await tdb?.close();
});

const v1 = (method: string, path: string, body?: unknown) =>
  new Request(`http://studio.test/api/v1/models/architectures${path}`, {
    method,
    headers: { authorization: `Bearer ${key}`, ...(body !== undefined && { "content-type": "application/json" }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });

describe("architectures", () => {
  it("stores a graph with its per-node summary, hidden from other teams", async () => {
    const row = await createArchitecture(member, { projectId, name: "cnn", description: "", task: "classify", graph: graph() });
    const summary = row.summary as { totalParams: number; nodes: { id: string; outputShape: number[] }[] };
    expect(summary.totalParams).toBeGreaterThan(0);
    expect(summary.nodes.length).toBe(graph().nodes.length);
    await expect(getArchitecture(outsider, row.id)).rejects.toBeInstanceOf(NotFound);
  });

  it("refuses an invalid graph with an error naming the node", () => {
    expect(() => analyzeArchitecture({ graph: brokenGraph })).toThrow(Invalid);
    expect(() => analyzeArchitecture({ graph: brokenGraph })).toThrow(/fc/);
  });
});

describe("seed 002 /api/v1/models/architectures", () => {
  it("creates (201), lists, overwrites and deletes (204)", async () => {
    const created = await createV1Architecture(v1("POST", "", { name: "builder graph", ...graph() }), { db: tdb.db });
    expect(created.status).toBe(201);
    const body = await created.json();
    expect(body).toMatchObject({ id: expect.any(Number), name: "builder graph", nodes: expect.any(Array), edges: expect.any(Array), params: expect.any(Number) });

    const listed = await (await listV1Architectures(v1("GET", ""), { db: tdb.db })).json();
    expect(listed.map((a: { name: string }) => a.name)).toContain("builder graph");

    const renamed = await updateV1Architecture(v1("PUT", `/${body.id}`, { name: "renamed", ...graph() }), routeContext({ id: String(body.id) }, { db: tdb.db }));
    expect(renamed.status).toBe(200);
    expect((await renamed.json()).name).toBe("renamed");

    const bad = await updateV1Architecture(v1("PUT", `/${body.id}`, { name: "renamed", ...brokenGraph }), routeContext({ id: String(body.id) }, { db: tdb.db }));
    expect(bad.status).toBe(400);
    expect((await bad.json()).detail).toMatch(/fc/);

    expect((await deleteV1Architecture(v1("DELETE", `/${body.id}`), routeContext({ id: String(body.id) }, { db: tdb.db }))).status).toBe(204);
    expect((await deleteV1Architecture(v1("DELETE", `/${body.id}`), routeContext({ id: String(body.id) }, { db: tdb.db }))).status).toBe(404);
  });

  it("answers 401 without credentials", async () => {
    const res = await listV1Architectures(new Request("http://studio.test/api/v1/models/architectures"), { db: tdb.db });
    expect(res.status).toBe(401);
  });
});

describe("training configs", () => {
  it("saves a template, replaces it under the same name, lists and deletes it", async () => {
    await saveTrainingConfig(member, { projectId, name: "fast", hyperparameters: { epochs: 5 } });
    const saved = await saveTrainingConfig(member, { projectId, name: "fast", hyperparameters: { epochs: 7, lr0: 0.01 } });
    expect((await listTrainingConfigs(member)).map((c) => [c.name, c.hyperparameters])).toEqual([["fast", { epochs: 7, lr0: 0.01 }]]);
    expect(await listTrainingConfigs(outsider)).toEqual([]);
    await expect(deleteTrainingConfig(outsider, saved.id)).rejects.toBeInstanceOf(NotFound);
    await deleteTrainingConfig(member, saved.id);
    expect(await listTrainingConfigs(member)).toEqual([]);
  });
});
