import { chmod, mkdtemp } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import type PgBoss from "pg-boss";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { experimentMetrics } from "@/db/schema";
import { seedMemberAndOutsider } from "@/db/testing/fixtures";
import { createTestDb, type TestDb } from "@/db/testing/test-db";
import type { Ctx } from "@/server/context";
import { resetEnvCache } from "@/server/env";
import { stopBoss } from "@/server/jobs/boss";
import { defaultProject } from "@/server/projects/service";
import { eq } from "drizzle-orm";
import { runningChildren } from "./job";
import { createExperiment } from "./lifecycle";
import { getExperiment, getExperimentLogs } from "./queries";
import type { Reaper } from "./reaper";
import { importShapesDataset, startTrainingQueue } from "./testing";

let tdb: TestDb;
let boss: PgBoss;
let reaper: Reaper;
let member: Ctx;
let projectId: number;
let datasetId: number;

async function waitFor<T>(what: string, probe: () => Promise<T | undefined | null | false>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

beforeAll(async () => {
  const work = await mkdtemp(path.join(os.tmpdir(), "hung-runs-"));
  await chmod(work, 0o755);
  process.env.STUDIO_IMPORT_ROOTS = path.join(work, "imports");
  resetEnvCache();
  tdb = await createTestDb();
  ({ member } = await seedMemberAndOutsider(tdb.db));
  projectId = (await defaultProject(member)).id;
  datasetId = await importShapesDataset(tdb.db, member, projectId, path.join(work, "imports"));
  // A short stall limit for the test; the default is STUDIO_RUN_STALL_S.
  ({ boss, reaper } = await startTrainingQueue(tdb.db, tdb.url, { dataDir: path.join(work, "data"), heartbeatMs: 250, stallMs: 3000 }, 2));
}, 60_000);

afterAll(async () => {
  reaper?.stop();
  for (const pid of runningChildren.values()) process.kill(pid, "SIGKILL");
  await stopBoss(boss, 2000);
  await tdb?.close();
});

describe("a hung run", () => {
  it("is killed when its process is frozen (SIGSTOP), and a new attempt resumes it from its checkpoint", async () => {
    const run = await createExperiment(
      member,
      { projectId, name: "frozen", datasetId, model: "reference-cnn", hyperparameters: { epochs: 3, batch: 8, imgsz: 32, log_every: 1, seed: 1 }, device: "auto", start: true },
      { boss },
    );
    await waitFor("a finished epoch", async () => (await tdb.db.select().from(experimentMetrics).where(eq(experimentMetrics.experimentId, run.id))).some((m) => m.step === 0));
    const pid = runningChildren.get(run.id)!;
    process.kill(pid, "SIGSTOP");

    await waitFor("the run to complete", async () => (await getExperiment(member, run.id)).status === "completed", 120_000);
    expect(alive(pid)).toBe(false);
    expect(await getExperiment(member, run.id)).toMatchObject({ attempt: 2, retries: 1, progress: 100 });
    const messages = (await getExperimentLogs(member, { id: run.id })).map((l) => l.message);
    expect(messages.some((m) => /made no progress for \d+ s .* was killed/.test(m))).toBe(true);
    expect(messages.some((m) => m.startsWith("Resuming"))).toBe(true);
  }, 150_000);
});
