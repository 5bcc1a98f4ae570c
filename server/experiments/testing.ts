import path from "node:path";
import type PgBoss from "pg-boss";
import type { Db } from "@/db/client";
import type { Ctx } from "@/server/context";
import { runDatasetImport } from "@/server/datasets/import";
import { startDatasetImport } from "@/server/datasets/service";
import { startBoss } from "@/server/jobs/boss";
import { jobRegistry } from "@/server/jobs/index";
import { createJobRegistry, workJobs } from "@/server/jobs/registry";
import { makeShapesImageFolder } from "@/server/ml/data/testing/shapes";
import type { TrainJobOptions } from "./job";
import { startReaper, type Reaper } from "./reaper";
import { createTrainExperimentJob } from "./train-job";

/** Test worlds of real training runs: a small dataset, a queue worked in this process, the reaper. */

/** A ready 3-class shapes dataset (32 px, 10 images a class) imported from `importRoot/shapes` in this process. */
export async function importShapesDataset(db: Db, member: Ctx, projectId: number, importRoot: string): Promise<number> {
  const folder = path.join(importRoot, "shapes");
  await makeShapesImageFolder(folder, { classes: 3, perClass: 10, size: 32, seed: 5 });
  const dataset = await startDatasetImport(member, { projectId, name: "shapes", source: { kind: "path", path: folder } }, async (payload) => runDatasetImport(db, payload));
  return dataset.id;
}

/**
 * pg-boss on `databaseUrl` with the studio's jobs, training by `train`'s options (fast heartbeats,
 * short limits), one slot worked in this process, and a reaper that finds a silent run within seconds.
 */
export async function startTrainingQueue(db: Db, databaseUrl: string, train: Omit<TrainJobOptions, "databaseUrl">, staleSeconds: number): Promise<{ boss: PgBoss; reaper: Reaper }> {
  const registry = createJobRegistry([...jobRegistry.jobs.filter((job) => job.name !== "experiments.train"), createTrainExperimentJob({ ...train, databaseUrl })]);
  const boss = await startBoss(databaseUrl, registry);
  await workJobs(boss, registry, { db, slots: 1, pollingIntervalSeconds: 0.5 });
  return { boss, reaper: startReaper(db, boss, { intervalMs: 300, staleSeconds, retryLimit: 2 }) };
}
