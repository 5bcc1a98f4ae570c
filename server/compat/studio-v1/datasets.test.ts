import type { Ctx } from "@/server/context";
import { existsSync } from "node:fs";
import { mkdtemp, readFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ctxFor, seedTeam, seedUser } from "@/db/testing/fixtures";
import { createTestDb, type TestDb } from "@/db/testing/test-db";
import { createApiKey } from "@/server/auth/api-keys";
import { withCaller } from "@/server/http/handler";
import { resetEnvCache } from "@/server/env";
import { defaultProject } from "@/server/projects/service";
import { insertReadyDataset } from "@/server/compat/shared/testing";
import { createExperiment } from "@/server/experiments/lifecycle";
import { createAugmentationV1, deleteAugmentationV1, listAugmentationsV1, updateAugmentationV1 } from "./augmentations";
import { runDatasetImport, type ImportPayload } from "@/server/datasets/import";
import { serveDatasetImage } from "@/server/datasets/images";
import { createDatasetV1, deleteDatasetV1, getDatasetV1, listDatasetsV1, previewDatasetV1, updateDatasetV1 } from "./datasets";
import { datasetDir, thumbsDir } from "@/server/datasets/storage";
import { solidImage, writeTree, zipFolder } from "@/server/datasets/testing";
import { restError } from "@/server/http/rest-error";

let tdb: TestDb;
let work: string;
let importRoot: string;
let bearer: string;
let otherBearer: string;
let projectId: number;
let member: Ctx;
const queued: ImportPayload[] = [];
const enqueue = async (p: ImportPayload) => queued.push(p);

beforeAll(async () => {
  work = await mkdtemp(path.join(os.tmpdir(), "datasets-rest-"));
  importRoot = path.join(work, "imports");
  process.env.STUDIO_DATA_DIR = path.join(work, "data");
  process.env.STUDIO_IMPORT_ROOTS = importRoot;
  process.env.STUDIO_UPLOAD_MAX_MB = "1";
  resetEnvCache();
  tdb = await createTestDb();
  const team = await seedTeam(tdb.db, "Vision");
  const other = await seedTeam(tdb.db, "Other");
  const m = await seedUser(tdb.db, { email: "m@x.io", teams: [{ teamId: team.id, role: "member" }] });
  const o = await seedUser(tdb.db, { email: "o@x.io", teams: [{ teamId: other.id, role: "member" }] });
  member = await ctxFor(tdb.db, m.id, team.id);
  bearer = `Bearer ${(await createApiKey(member, { name: "k" })).key}`;
  otherBearer = `Bearer ${(await createApiKey(await ctxFor(tdb.db, o.id, other.id), { name: "k" })).key}`;
  projectId = (await defaultProject(member)).id;
});
afterAll(() => tdb.close());

/** Calls a handler the way its route file does, through the real authentication. */
function call(req: Request, handler: Parameters<typeof withCaller>[2], multipart = false) {
  return withCaller(req, restError, handler, { db: tdb.db, multipart });
}

function request(method: string, url: string, init: { body?: BodyInit; json?: unknown; auth?: string } = {}) {
  const headers: Record<string, string> = { authorization: init.auth ?? bearer };
  if (init.json !== undefined) headers["content-type"] = "application/json";
  return new Request(`http://localhost:3999${url}`, { method, headers, body: init.json !== undefined ? JSON.stringify(init.json) : init.body });
}

async function multipart(name: string, zipFile: string) {
  const form = new FormData();
  form.set("name", name);
  form.set("file", new Blob([await readFile(zipFile)]), path.basename(zipFile));
  const probe = new Request("http://x/", { method: "POST", body: form });
  return { body: Buffer.from(await probe.arrayBuffer()), type: probe.headers.get("content-type")! };
}

async function uploadZip(name: string, zipFile: string) {
  const { body, type } = await multipart(name, zipFile);
  const req = new Request("http://localhost:3999/api/v1/datasets", { method: "POST", headers: { authorization: bearer, "content-type": type }, body });
  return call(req, (ctx) => createDatasetV1(req, ctx, enqueue), true);
}

async function runQueued() {
  while (queued.length) await runDatasetImport(tdb.db, queued.shift()!);
}

describe("/api/v1/datasets", () => {
  let zipId: number;

  it("POST multipart .zip → 201 importing; the job makes it ready", async () => {
    const src = await writeTree(path.join(work, "src"), {
      "cat/1.png": await solidImage(32, 32, [200, 0, 0]),
      "cat/2.png": await solidImage(32, 32, [210, 0, 0]),
      "dog/1.png": await solidImage(48, 32, [0, 0, 200]),
    });
    const res = await uploadZip("pets", await zipFolder(src, path.join(work, "pets.zip")));
    expect(res.status).toBe(201);
    const body = await res.json();
    // Nothing is known of the files yet: the first reply must not claim a task or format.
    expect(body).toMatchObject({ name: "pets", status: "importing", num_images: 0, task: "unknown", format: "unknown", created_at: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/) });
    zipId = body.id;
    expect(queued).toHaveLength(1);
    await runQueued();

    const detail = await call(request("GET", `/api/v1/datasets/${zipId}`), (ctx) => getDatasetV1(ctx, zipId));
    expect(detail.status).toBe(200);
    expect(await detail.json()).toMatchObject({
      id: zipId,
      status: "ready",
      format: "imagefolder",
      task: "classify",
      num_images: 3,
      class_distribution: [
        { name: "cat", images: 2, instances: 2 },
        { name: "dog", images: 1, instances: 1 },
      ],
      resolution: { width: { min: 32, median: 32, max: 48 }, height: { min: 32, median: 32, max: 32 }, aspect_ratio: { min: 1, median: 1, max: 1.5 } },
      empty_annotation_rate: 0,
      format_evidence: ["cat/", "dog/"],
    });
  });

  it("refuses an upload over STUDIO_UPLOAD_MAX_MB and a duplicate name", async () => {
    const big = await writeTree(path.join(work, "big"), { "a/1.png": Buffer.alloc(1_200_000, 7), "b/1.png": Buffer.alloc(10, 1) });
    const tooBig = await uploadZip("big", await zipFolder(big, path.join(work, "big.zip")));
    expect(tooBig.status).toBe(400);
    expect((await tooBig.json()).detail).toMatch(/larger than the limit of 1 MB/);

    const src = await writeTree(path.join(work, "dup"), { "a/1.png": await solidImage(32, 32, [1, 1, 1]), "b/1.png": await solidImage(32, 32, [2, 2, 2]) });
    const dup = await uploadZip("pets", await zipFolder(src, path.join(work, "dup.zip")));
    expect(dup.status).toBe(422);
    expect((await dup.json()).errors).toEqual({ name: ["already taken"] });
    expect(queued).toHaveLength(0);
  });

  it("POST JSON {path} → 201 inside the roots, 400 outside", async () => {
    const src = await writeTree(path.join(importRoot, "served"), { "x/1.png": await solidImage(32, 32, [5, 5, 5]), "y/1.png": await solidImage(32, 32, [6, 6, 6]) });
    const ok = await call(request("POST", "/api/v1/datasets", { json: { name: "served", path: src } }), (ctx) => createDatasetV1(request("POST", "/api/v1/datasets", { json: { name: "served", path: src } }), ctx, enqueue));
    expect(ok.status).toBe(201);
    await runQueued();
    const outside = await call(request("POST", "/api/v1/datasets", { json: { name: "nope", path: "/etc" } }), (ctx) =>
      createDatasetV1(request("POST", "/api/v1/datasets", { json: { name: "nope", path: "/etc" } }), ctx, enqueue),
    );
    expect(outside.status).toBe(400);
    expect((await outside.json()).detail).toMatch(/outside the allowed import roots/);
  });

  it("GET list pages and searches", async () => {
    const res = await call(request("GET", "/api/v1/datasets?page=1&size=1&q=pet"), (ctx) => listDatasetsV1(ctx, new URL("http://x/api/v1/datasets?page=1&size=1&q=pet")));
    expect(await res.json()).toMatchObject({ total: 1, page: 1, size: 1, items: [{ id: zipId, name: "pets" }] });
    const all = await call(request("GET", "/api/v1/datasets"), (ctx) => listDatasetsV1(ctx, new URL("http://x/api/v1/datasets")));
    expect((await all.json()).total).toBe(2);
  });

  it("preview returns image URLs the same Bearer can fetch; thumbnails are cached", async () => {
    const res = await call(request("GET", `/api/v1/datasets/${zipId}/preview?page=1&limit=2`), (ctx) => previewDatasetV1(ctx, zipId, new URL("http://x/?page=1&limit=2")));
    const body = await res.json();
    expect(body.total).toBe(3);
    expect(body.items).toHaveLength(2);
    expect(body.items[0]).toMatchObject({ path: "cat/1.png", label: "cat", url: `/api/datasets/${zipId}/images/${body.items[0].id}` });
    const itemId = body.items[0].id;
    const thumb = await call(request("GET", body.items[0].thumbnail_url), (ctx) => serveDatasetImage(ctx, zipId, itemId, true));
    expect(thumb.status).toBe(200);
    expect(thumb.headers.get("content-type")).toBe("image/webp");
    expect((await thumb.arrayBuffer()).byteLength).toBeGreaterThan(0);
    expect(existsSync(path.join(thumbsDir(zipId), `${itemId}.webp`))).toBe(true);
    const original = await call(request("GET", body.items[0].url), (ctx) => serveDatasetImage(ctx, zipId, itemId, false));
    expect(original.headers.get("content-type")).toBe("image/png");
    const stranger = await call(request("GET", body.items[0].url, { auth: otherBearer }), (ctx) => serveDatasetImage(ctx, zipId, itemId, false));
    expect(stranger.status).toBe(404);
    const anonymous = await call(request("GET", body.items[0].url, { auth: "" }), (ctx) => serveDatasetImage(ctx, zipId, itemId, false));
    expect(anonymous.status).toBe(401);
  });

  it("PUT → 204; DELETE refused (422) while an experiment runs, then 204 and the folder is gone", async () => {
    const put = request("PUT", `/api/v1/datasets/${zipId}`, { json: { name: "pets-v2", description: "renamed" } });
    expect((await call(put, (ctx) => updateDatasetV1(put, ctx, zipId))).status).toBe(204);

    await tdb.db.execute(sql`insert into experiments (project_id, name, dataset_id, hyperparameters, status) values (${projectId}, 'run-1', ${zipId}, '{}'::jsonb, 'running')`);
    const refused = await call(request("DELETE", `/api/v1/datasets/${zipId}`), (ctx) => deleteDatasetV1(ctx, zipId));
    expect(refused.status).toBe(422);
    expect((await refused.json()).detail).toMatch(/used by experiment/);
    expect(existsSync(datasetDir(zipId))).toBe(true);

    await tdb.db.execute(sql`update experiments set status = 'completed' where dataset_id = ${zipId}`);
    const deleted = await call(request("DELETE", `/api/v1/datasets/${zipId}`), (ctx) => deleteDatasetV1(ctx, zipId));
    expect(deleted.status).toBe(204);
    expect(existsSync(datasetDir(zipId))).toBe(false);
    const gone = await call(request("GET", `/api/v1/datasets/${zipId}`), (ctx) => getDatasetV1(ctx, zipId));
    expect(gone.status).toBe(404);
  });
});

describe("/api/v1/augmentation", () => {
  it("creates, lists, updates and deletes; pipelines are stored as sent with what training refuses flagged; duplicates → 422", async () => {
    const post = (json: unknown) => {
      const req = request("POST", "/api/v1/augmentation", { json });
      return call(req, (ctx) => createAugmentationV1(req, ctx));
    };
    const created = await post({ name: "light", desc: "flips", pipeline: [{ op: "hflip" }] });
    expect(created.status).toBe(201);
    const body = await created.json();
    expect(body).toMatchObject({ name: "light", desc: "flips", pipeline: [{ op: "hflip" }], unknown_ops: [] });

    // §2.3: "后端直接存储，训练时解析" — kept as sent; Albumentations names that map onto our ops are fine.
    const sent = [{ type: "HorizontalFlip", p: 0.5 }, { op: "hflip", p: 3 }, { op: "warp" }, { type: "ElasticTransform", alpha: 1 }];
    const kept = await post({ name: "foreign", pipeline: sent });
    expect(kept.status).toBe(201);
    const keptBody = await kept.json();
    expect(keptBody.pipeline).toEqual(sent);
    expect(keptBody.unknown_ops.map((f: { index: number; op: string }) => [f.index, f.op])).toEqual([[1, "hflip"], [2, "warp"], [3, "ElasticTransform"]]);
    expect(keptBody.unknown_ops[2].problem).toMatch(/pipeline\[3\]\.op: unknown op 'ElasticTransform'/);
    const datasetId = await insertReadyDataset(tdb, projectId, "for-foreign");
    const training = createExperiment(member, { projectId, name: "with-foreign", datasetId, model: "reference-cnn", augmentationId: keptBody.id });
    await expect(training).rejects.toThrow(/cannot be trained with: .*unknown op 'warp'/);

    expect((await post({ name: "light", pipeline: [] })).status).toBe(422);

    const put = request("PUT", `/api/v1/augmentation/${body.id}`, { json: { name: "light", desc: "none", pipeline: [] } });
    expect((await call(put, (ctx) => updateAugmentationV1(put, ctx, body.id))).status).toBe(204);
    const list = await call(request("GET", "/api/v1/augmentation"), (ctx) => listAugmentationsV1(ctx));
    expect((await list.json()).find((a: { id: number }) => a.id === body.id)).toMatchObject({ id: body.id, name: "light", desc: "none", pipeline: [] });
    expect((await call(request("DELETE", `/api/v1/augmentation/${body.id}`), (ctx) => deleteAugmentationV1(ctx, body.id))).status).toBe(204);
    expect((await call(request("DELETE", `/api/v1/augmentation/${body.id}`), (ctx) => deleteAugmentationV1(ctx, body.id))).status).toBe(404);
  });
});
