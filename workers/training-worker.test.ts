import { execFileSync, spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { experimentLogs, experimentMetrics, workers } from "@/db/schema";
import { seedMemberAndOutsider } from "@/db/testing/fixtures";
import { createTestDb, type TestDb } from "@/db/testing/test-db";
import { runDatasetImport } from "@/server/datasets/import";
import { startDatasetImport } from "@/server/datasets/service";
import { resetEnvCache } from "@/server/env";
import { createExperiment } from "@/server/experiments/lifecycle";
import { startBoss, stopBoss } from "@/server/jobs/boss";
import { jobRegistry } from "@/server/jobs/index";
import { makeShapesImageFolder } from "@/server/ml/data/testing/shapes";
import { defaultProject } from "@/server/projects/service";

let tdb: TestDb;
let work: string;
let dataDir: string;

beforeAll(async () => {
  tdb = await createTestDb();
  work = await fs.mkdtemp(path.join(os.tmpdir(), "studio-worker-"));
  dataDir = path.join(work, "data");
  await fs.mkdir(dataDir);
  // As root the run folder's parents must be enterable by an unprivileged user.
  await fs.chmod(work, 0o755);
  await fs.chmod(dataDir, 0o755);
});
afterAll(async () => {
  await tdb?.close();
  await fs.rm(work, { recursive: true, force: true });
});

function startWorker(slots: number) {
  const child = spawn(process.execPath, ["--import", "tsx", "workers/training-worker.ts"], {
    cwd: path.resolve(import.meta.dirname, ".."),
    env: { ...process.env, DATABASE_URL: tdb.url, STUDIO_DATA_DIR: dataDir, STUDIO_WORKER_SLOTS: String(slots), NODE_ENV: "test" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  child.stdout.on("data", (chunk) => (output += chunk));
  child.stderr.on("data", (chunk) => (output += chunk));
  return { child, output: () => output };
}

/** A process that exists and is not a zombie waiting for a parent to reap it. */
function running(pid: number): boolean {
  try {
    return readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]?.[0] !== "Z";
  } catch {
    return false;
  }
}

const childPids = (pid: number) =>
  execFileSync("ps", ["-o", "pid=", "--ppid", String(pid)], { encoding: "utf8" }).split("\n").map(Number).filter((n) => n > 0);

describe("training worker process", () => {
  it("registers itself, then on SIGTERM leaves the fleet and exits 0", async () => {
    const { child, output } = startWorker(3);
    const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
    try {
      await expect.poll(async () => (await tdb.db.select().from(workers)).map((w) => [w.pid, w.slots]), { timeout: 20_000 }).toEqual([[child.pid, 3]]);
      child.kill("SIGTERM");
      expect(await exited).toBe(0);
      expect(await tdb.db.select().from(workers)).toEqual([]);
    } catch (error) {
      child.kill("SIGKILL");
      throw new Error(`${(error as Error).message}\nworker output:\n${output()}`);
    }
  });

  it("leaves no run process behind when it is killed (SIGKILL) in the middle of a run", async () => {
    const imports = path.join(work, "imports");
    // The dataset's files go where the worker process looks for them.
    process.env.STUDIO_DATA_DIR = dataDir;
    process.env.STUDIO_IMPORT_ROOTS = imports;
    resetEnvCache();
    const { member } = await seedMemberAndOutsider(tdb.db);
    const projectId = (await defaultProject(member)).id;
    await makeShapesImageFolder(path.join(imports, "shapes"), { classes: 3, perClass: 10, size: 32, seed: 5 });
    const dataset = await startDatasetImport(member, { projectId, name: "shapes", source: { kind: "path", path: path.join(imports, "shapes") } }, async (payload) => runDatasetImport(tdb.db, payload));
    // Only to queue the run: the worker process is the one that works it.
    const boss = await startBoss(tdb.url, jobRegistry);
    const { child, output } = startWorker(1);
    try {
      const run = await createExperiment(
        member,
        { projectId, name: "orphaned", datasetId: dataset.id, model: "reference-cnn", hyperparameters: { epochs: 500, batch: 8, imgsz: 32, seed: 1 }, device: "auto", start: true },
        { boss },
      );
      await expect.poll(async () => (await tdb.db.select().from(experimentMetrics).where(eq(experimentMetrics.experimentId, run.id))).length > 0, { timeout: 60_000 }).toBe(true);
      const runProcesses = childPids(child.pid!);
      expect(runProcesses.length).toBeGreaterThan(0);

      child.kill("SIGKILL");
      await expect.poll(() => runProcesses.filter(running), { timeout: 30_000 }).toEqual([]);
    } catch (error) {
      const logs = await tdb.db.select().from(experimentLogs);
      throw new Error(`${(error as Error).message}\nworker output:\n${output()}\nrun log:\n${logs.map((l) => l.message).join("\n")}`);
    } finally {
      child.kill("SIGKILL");
      await stopBoss(boss, 1000);
    }
  });
});
