import { encode } from "next-auth/jwt";
import type PgBoss from "pg-boss";
import { and, eq } from "drizzle-orm";
import { datasets, experiments, projects, type ExperimentStatus } from "@/db/schema";
import { ctxFor, seedTeam, seedUser } from "@/db/testing/fixtures";
import { createTestDb, type TestDb } from "@/db/testing/test-db";
import { createApiKey } from "@/server/auth/api-keys";
import { studioSecret } from "@/server/auth/secret";
import type { Ctx } from "@/server/context";
import { createExperiment } from "@/server/experiments/lifecycle";
import { startBoss, stopBoss } from "@/server/jobs/boss";
import { jobRegistry } from "@/server/jobs/index";
import type { HandlerDeps, RouteContext } from "@/server/http/handler";

/**
 * A database with two teams for the dialect handlers' tests: ours (a member with an API key, the
 * default project and a ready classification dataset) and another team with its own key.
 */
export interface DialectWorld {
  tdb: TestDb;
  boss: PgBoss;
  ctx: Ctx;
  key: string;
  otherKey: string;
  otherCtx: Ctx;
  userId: number;
  teamId: number;
  defaultProjectId: number;
  datasetId: number;
  close(): Promise<void>;
}

export async function createDialectWorld(): Promise<DialectWorld> {
  const tdb = await createTestDb();
  const team = await seedTeam(tdb.db, "Vision");
  const other = await seedTeam(tdb.db, "Other");
  const user = await seedUser(tdb.db, { email: "m@x.io", teams: [{ teamId: team.id, role: "member" }] });
  const outsider = await seedUser(tdb.db, { email: "o@x.io", teams: [{ teamId: other.id, role: "member" }] });
  const ctx = await ctxFor(tdb.db, user.id, team.id);
  const otherCtx = await ctxFor(tdb.db, outsider.id, other.id);
  const key = (await createApiKey(ctx, { name: "dialects" })).key;
  const otherKey = (await createApiKey(otherCtx, { name: "other" })).key;
  const [project] = await tdb.db.select().from(projects).where(and(eq(projects.teamId, team.id), eq(projects.name, "default")));
  const datasetId = await insertReadyDataset(tdb, project.id, "shapes");
  const boss = await startBoss(tdb.url, jobRegistry);
  return {
    tdb,
    boss,
    ctx,
    key,
    otherKey,
    otherCtx,
    userId: user.id,
    teamId: team.id,
    defaultProjectId: project.id,
    datasetId,
    async close() {
      await stopBoss(boss, 1000);
      await tdb.close();
    },
  };
}

/** A dataset row as a finished import leaves it (no items: these tests never train). */
export async function insertReadyDataset(tdb: TestDb, projectId: number, name: string, task: "classify" | "detect" = "classify"): Promise<number> {
  const [row] = await tdb.db.insert(datasets).values({ projectId, name, task, status: "ready", classes: ["a", "b"], progress: 1 }).returning({ id: datasets.id });
  return row.id;
}

/** Puts an experiment into the state a worker would have left it in. */
export async function setExperimentState(tdb: TestDb, id: number, values: Partial<typeof experiments.$inferInsert> & { status: ExperimentStatus }): Promise<void> {
  await tdb.db.update(experiments).set(values).where(eq(experiments.id, id));
}

export function bearer(key: string): Record<string, string> {
  return { authorization: `Bearer ${key}` };
}

export function jsonRequest(method: string, path: string, body: unknown, headers: Record<string, string> = {}): Request {
  return new Request(`http://studio.test${path}`, { method, headers: { "content-type": "application/json", ...headers }, body: JSON.stringify(body) });
}

export function getRequest(path: string, headers: Record<string, string> = {}): Request {
  return new Request(`http://studio.test${path}`, { headers });
}

export async function sessionCookie(userId: number, teamId: number): Promise<string> {
  const token = await encode({ token: { sub: String(userId), teamId }, secret: studioSecret() });
  return `next-auth.session-token=${token}`;
}

/** The context Next gives a handler for these path parameters, with the test's database and queue beside them. */
export function routeContext<P extends string, D extends HandlerDeps>(params: Record<P, string>, deps?: D): RouteContext<P> & D {
  return { ...(deps as D), params: Promise.resolve(params) };
}

/** An experiment of 20 epochs on the world's dataset, created (not started) as a client would leave it. */
export function createTestExperiment(w: DialectWorld, name: string) {
  return createExperiment(w.ctx, { projectId: w.defaultProjectId, name, datasetId: w.datasetId, model: "reference-cnn", hyperparameters: { epochs: 20 } }, { boss: w.boss });
}
