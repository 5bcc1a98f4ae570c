import { spawn } from "node:child_process";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { workers } from "@/db/schema";
import { createTestDb, type TestDb } from "@/db/testing/test-db";

let tdb: TestDb;
let dataDir: string;

beforeAll(async () => {
  tdb = await createTestDb();
  dataDir = await fs.mkdtemp(path.join(os.tmpdir(), "studio-worker-"));
});
afterAll(async () => {
  await tdb?.close();
  await fs.rm(dataDir, { recursive: true, force: true });
});

describe("training worker process", () => {
  it("registers itself, then on SIGTERM leaves the fleet and exits 0", async () => {
    const child = spawn(process.execPath, ["--import", "tsx", "workers/training-worker.ts"], {
      cwd: path.resolve(import.meta.dirname, ".."),
      env: { ...process.env, DATABASE_URL: tdb.url, STUDIO_DATA_DIR: dataDir, STUDIO_WORKER_SLOTS: "3", NODE_ENV: "test" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    child.stdout.on("data", (chunk) => (output += chunk));
    child.stderr.on("data", (chunk) => (output += chunk));
    const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
    try {
      await expect.poll(async () => (await tdb.db.select().from(workers)).map((w) => [w.pid, w.slots]), { timeout: 20_000 }).toEqual([[child.pid, 3]]);
      child.kill("SIGTERM");
      expect(await exited).toBe(0);
      expect(await tdb.db.select().from(workers)).toEqual([]);
    } catch (error) {
      child.kill("SIGKILL");
      throw new Error(`${(error as Error).message}\nworker output:\n${output}`);
    }
  });
});
