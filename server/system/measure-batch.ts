import { spawn } from "node:child_process";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { sql } from "drizzle-orm";
import type { z } from "zod";
import type { Db } from "@/db/client";
import { batchMeasurements } from "@/db/schema";
import { PermanentError } from "@/server/errors";
import type { JobContext } from "@/server/jobs/registry";
import type { BatchFit, MemoryBudget } from "@/server/ml/train/autobatch";
import type { measureBatchPayload } from "./measure-batch-job";

const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");

type Measured = { ok: true; backend: string; description: string; budget: MemoryBudget; fit: BatchFit; workers: number } | { ok: false; error: string };

/** Runs workers/measure-batch.ts and reads its one JSON line. */
function runMeasurement(request: z.output<typeof measureBatchPayload>): Promise<Measured> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["--import", "tsx", path.join(REPO_ROOT, "workers", "measure-batch.ts"), JSON.stringify(request)], { cwd: REPO_ROOT, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr = (stderr + chunk).slice(-2000)));
    child.on("error", reject);
    child.on("exit", (code, signal) => {
      const line = stdout.trim().split("\n").at(-1);
      try {
        resolve(JSON.parse(line ?? "") as Measured);
      } catch {
        reject(new Error(`the measurement process ${signal ? `was killed by ${signal}` : `exited with code ${code}`}: ${stderr.trim().split("\n").at(-1) ?? ""}`));
      }
    });
  });
}

/** Stores one measurement of this host (the newest per host, device, model and image size). */
export async function storeMeasurement(db: Db, row: typeof batchMeasurements.$inferInsert): Promise<typeof batchMeasurements.$inferSelect> {
  const [stored] = await db
    .insert(batchMeasurements)
    .values(row)
    .onConflictDoUpdate({
      target: [batchMeasurements.host, batchMeasurements.device, batchMeasurements.model, batchMeasurements.imgsz],
      set: { backend: row.backend, bytesPerImage: row.bytesPerImage, interceptBytes: row.interceptBytes, freeBytes: row.freeBytes, batch: row.batch, samples: row.samples, measuredAt: sql`now()` },
    })
    .returning();
  return stored;
}

/** The `system.measure-batch` job. */
export async function measureBatch(request: z.output<typeof measureBatchPayload>, { db }: JobContext) {
  const measured = await runMeasurement(request);
  // The same request would fail the same way: no retry.
  if (!measured.ok) throw new PermanentError(`AutoBatch could not measure ${request.model} at ${request.imgsz} px on ${request.device}: ${measured.error}`);
  const { fit, budget } = measured;
  const stored = await storeMeasurement(db, {
    host: os.hostname(),
    device: request.device,
    backend: measured.backend,
    model: request.model,
    imgsz: request.imgsz,
    bytesPerImage: fit.bytesPerImage,
    interceptBytes: fit.interceptBytes,
    freeBytes: Math.round(budget.freeBytes),
    batch: fit.perThread * measured.workers,
    samples: fit.samples,
  });
  return { id: stored.id, batch: stored.batch, host: stored.host, backend: stored.backend };
}
