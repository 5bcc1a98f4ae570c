import { mkdir, mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import sharp from "sharp";
import { getDb } from "@/db/client";
import { architectures, augmentations, datasetItems, experiments, projects, trainingConfigs, weights } from "@/db/schema";
import { ctxFor, seedTeam, seedUser } from "@/db/testing/fixtures";
import { createTestDb, type TestDb } from "@/db/testing/test-db";
import { createApiKey, revokeApiKey } from "@/server/auth/api-keys";
import { revokeApiJwt, signApiJwt, verifyApiJwt } from "@/server/auth/jwt";
import { insertReadyDataset } from "@/server/compat/shared/testing";
import { itemFile } from "@/server/datasets/storage";
import type { Ctx } from "@/server/context";
import { env, resetEnvCache } from "@/server/env";
import { getBoss, stopBoss } from "@/server/jobs/boss";
import { storedWeightsPath, weightsFilePath } from "@/server/weights/storage";

/**
 * One database for the tests that call every route file, fast route and tRPC procedure as the
 * web server does: the route files take the process's database and queue, so the world points
 * DATABASE_URL at a fresh test database. Team "Vision" owns one of everything (ids below); its
 * member, viewer and revoked credentials, and another team's key, are the callers.
 */
export interface RouteWorld {
  tdb: TestDb;
  member: Ctx;
  viewer: Ctx;
  admin: Ctx;
  outsider: Ctx;
  keys: { member: string; viewer: string; other: string; revoked: string };
  jwts: { member: string; revoked: string };
  projectName: string;
  /** STUDIO_IMPORT_ROOTS; holds `train/{cat,dog}/`, an ImageFolder without images, and `model.onnx`, which is none. */
  importRoot: string;
  /** STUDIO_DATA_DIR, the world's own. */
  dataDir: string;
  ids: { apiKey: number; project: number; dataset: number; item: number; experiment: number; augmentation: number; architecture: number; config: number; weights: number };
  close(): Promise<void>;
}

/** The route files read the process's configuration: the world sets it, then drops server/env.ts's cache. */
function setProcessEnv(vars: Record<string, string | undefined>): void {
  for (const [name, value] of Object.entries(vars)) {
    // eslint-disable-next-line no-restricted-properties -- a test helper points the process at its own database
    if (value === undefined) delete process.env[name];
    // eslint-disable-next-line no-restricted-properties -- as above
    else process.env[name] = value;
  }
  resetEnvCache();
}

const TINY_GRAPH = { nodes: [{ id: "in", type: "input", data: { shape: [3, 32, 32] } }], edges: [] };

export async function createRouteWorld(): Promise<RouteWorld> {
  const previousDataDir = env().STUDIO_DATA_DIR;
  const tdb = await createTestDb();
  const scratch = await mkdtemp(path.join(os.tmpdir(), "route-world-"));
  const importRoot = path.join(scratch, "import");
  const dataDir = path.join(scratch, "data");
  for (const folder of ["import/train/cat", "import/train/dog", "data"]) await mkdir(path.join(scratch, folder), { recursive: true });
  await writeFile(path.join(importRoot, "model.onnx"), "not really onnx");
  setProcessEnv({ DATABASE_URL: tdb.url, STUDIO_IMPORT_ROOTS: importRoot, STUDIO_DATA_DIR: dataDir });
  const team = await seedTeam(tdb.db, "Vision");
  const other = await seedTeam(tdb.db, "Other");
  const m = await seedUser(tdb.db, { email: "member@x.io", teams: [{ teamId: team.id, role: "member" }] });
  const v = await seedUser(tdb.db, { email: "viewer@x.io", teams: [{ teamId: team.id, role: "viewer" }] });
  const a = await seedUser(tdb.db, { email: "admin@x.io", teams: [{ teamId: team.id, role: "admin" }] });
  const o = await seedUser(tdb.db, { email: "other@x.io", teams: [{ teamId: other.id, role: "owner" }] });
  const [member, viewer, admin, outsider] = await Promise.all([ctxFor(tdb.db, m.id, team.id), ctxFor(tdb.db, v.id, team.id), ctxFor(tdb.db, a.id, team.id), ctxFor(tdb.db, o.id, other.id)]);

  const revokedKey = await createApiKey(member, { name: "revoked" });
  await revokeApiKey(member, { id: revokedKey.id });
  const memberKey = await createApiKey(member, { name: "member" });
  const keys = {
    member: memberKey.key,
    viewer: (await createApiKey(viewer, { name: "viewer" })).key,
    other: (await createApiKey(outsider, { name: "other" })).key,
    revoked: revokedKey.key,
  };
  const revokedJwt = (await signApiJwt(m.id, team.id)).token;
  await revokeApiJwt(tdb.db, (await verifyApiJwt(tdb.db, revokedJwt))!);
  const jwts = { member: (await signApiJwt(m.id, team.id)).token, revoked: revokedJwt };

  const projectName = "vision";
  const [project] = await tdb.db.insert(projects).values({ teamId: team.id, name: projectName }).returning();
  const dataset = await insertReadyDataset(tdb, project.id, "shapes");
  const image = itemFile(dataset, "a/1.png");
  await mkdir(path.dirname(image), { recursive: true });
  await sharp({ create: { width: 32, height: 32, channels: 3, background: { r: 200, g: 30, b: 30 } } }).png().toFile(image);
  const [item] = await tdb.db.insert(datasetItems).values({ datasetId: dataset, path: "a/1.png", bytes: 1, sha256: "0", width: 32, height: 32, label: 0 }).returning();
  const [experiment] = await tdb.db
    .insert(experiments)
    .values({ projectId: project.id, name: "exp", task: "classify", datasetId: dataset, model: "reference-cnn", hyperparameters: { epochs: 1 }, deviceRequested: "auto", totalEpochs: 1, createdBy: m.id })
    .returning();
  const [augmentation] = await tdb.db.insert(augmentations).values({ projectId: project.id, name: "flip", pipeline: [] }).returning();
  const [architecture] = await tdb.db
    .insert(architectures)
    .values({ projectId: project.id, name: "net", graph: TINY_GRAPH, summary: {} as never })
    .returning();
  const [config] = await tdb.db.insert(trainingConfigs).values({ projectId: project.id, name: "cfg", hyperparameters: { epochs: 1 } }).returning();
  const sha256 = "0".repeat(64);
  const weightsFile = storedWeightsPath(sha256, "onnx");
  await mkdir(path.dirname(weightsFilePath(weightsFile)), { recursive: true });
  await writeFile(weightsFilePath(weightsFile), "not really onnx");
  const [weightsEntry] = await tdb.db.insert(weights).values({ projectId: project.id, name: "w", format: "onnx", file: weightsFile, bytes: 15, sha256 }).returning();

  return {
    tdb,
    member,
    viewer,
    admin,
    outsider,
    keys,
    jwts,
    projectName,
    importRoot,
    dataDir,
    ids: { apiKey: memberKey.id, project: project.id, dataset, item: item.id, experiment: experiment.id, augmentation: augmentation.id, architecture: architecture.id, config: config.id, weights: weightsEntry.id },
    async close() {
      const global = globalThis as { studioBoss?: Promise<unknown> };
      if (global.studioBoss) await stopBoss((await getBoss()) as never, 1000);
      await getDb().close();
      delete (globalThis as { studioDb?: unknown }).studioDb;
      delete global.studioBoss;
      setProcessEnv({ DATABASE_URL: undefined, STUDIO_IMPORT_ROOTS: undefined, STUDIO_DATA_DIR: previousDataDir });
      await tdb.close();
      await rm(scratch, { recursive: true, force: true });
    },
  };
}

/** Every route file under app/, as paths relative to the repository (`app/train/[job_id]/route.ts`). */
export async function routeFilesOnDisk(): Promise<string[]> {
  const root = path.resolve(import.meta.dirname, "../..");
  const entries = await readdir(path.join(root, "app"), { recursive: true, withFileTypes: true });
  return entries
    .filter((e) => e.isFile() && e.name === "route.ts")
    .map((e) => path.relative(root, path.join(e.parentPath, e.name)).split(path.sep).join("/"))
    .sort();
}

export type RouteModule = Partial<Record<"GET" | "POST" | "PUT" | "PATCH" | "DELETE", (req: Request, context: { params: Promise<Record<string, string | string[]>> }) => Promise<Response>>>;

/** Imports a route file as Next does and returns its method handlers. */
export async function loadRoute(file: string): Promise<RouteModule> {
  return (await import(/* @vite-ignore */ path.resolve(import.meta.dirname, "../..", file))) as RouteModule;
}

export const ORIGIN = "http://localhost:3999";

export function routeRequest(method: string, urlPath: string, opts: { auth?: string; json?: unknown; body?: BodyInit; headers?: Record<string, string> } = {}): Request {
  const headers: Record<string, string> = { ...opts.headers };
  if (opts.auth) headers.authorization = `Bearer ${opts.auth}`;
  let body: BodyInit | undefined = opts.body;
  if (opts.json !== undefined) {
    headers["content-type"] ??= "application/json";
    body = JSON.stringify(opts.json);
  }
  return new Request(`${ORIGIN}${urlPath}`, { method, headers, body });
}

/** Calls a route file's handler with its path parameters, as Next does. */
export async function callRoute(mod: RouteModule, method: string, req: Request, params: Record<string, string | string[]>): Promise<Response> {
  const handler = mod[method as keyof RouteModule];
  if (!handler) throw new Error(`no ${method} handler`);
  return handler(req, { params: Promise.resolve(params) });
}
