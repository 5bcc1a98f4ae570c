import { spawn } from "node:child_process";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDb, type TestDb } from "@/db/testing/test-db";

let tdb: TestDb;

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = net.createServer();
    probe.listen(0, "127.0.0.1", () => {
      const { port } = probe.address() as net.AddressInfo;
      probe.close(() => resolve(port));
    });
    probe.on("error", reject);
  });
}

beforeAll(async () => {
  tdb = await createTestDb();
});
afterAll(() => tdb?.close());

describe("realtime sidecar process", () => {
  it("answers /healthz on its port, then exits 0 on SIGTERM", async () => {
    const port = await freePort();
    const child = spawn(process.execPath, ["--import", "tsx", "workers/realtime.ts"], {
      cwd: path.resolve(import.meta.dirname, ".."),
      env: { ...process.env, DATABASE_URL: tdb.url, STUDIO_REALTIME_PORT: String(port), STUDIO_DATA_DIR: os.tmpdir(), NODE_ENV: "test" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    child.stdout.on("data", (chunk) => (output += chunk));
    child.stderr.on("data", (chunk) => (output += chunk));
    const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
    try {
      const health = async () => {
        try {
          return await (await fetch(`http://127.0.0.1:${port}/healthz`)).json();
        } catch {
          return null;
        }
      };
      await expect.poll(health, { timeout: 20_000 }).toMatchObject({ ok: true, connections: 0 });
      child.kill("SIGTERM");
      expect(await exited).toBe(0);
    } catch (error) {
      child.kill("SIGKILL");
      throw new Error(`${(error as Error).message}\nsidecar output:\n${output}`);
    }
  });
});
