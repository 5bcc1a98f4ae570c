import { spawn, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import superjson from "superjson";

/**
 * A whole studio (`npm start`'s supervisor) for a benchmark: its own port, a fresh data folder
 * with an import root, and an administrator the bench logs in as.
 */
export interface BenchStudio {
  base: string;
  dataDir: string;
  importRoot: string;
  process: ChildProcess;
  /** performance.now() when the supervisor was spawned. */
  startedAt: number;
  /** Polls /api/health; rejects when the studio exits or is not healthy within `timeoutMs`. */
  healthy(timeoutMs?: number): Promise<void>;
  /** A JWT of the administrator (seed 002's login). */
  logIn(): Promise<string>;
  /** Calls a tRPC procedure as `token`. */
  trpc<T>(token: string, procedure: string, input: unknown, mutation?: boolean): Promise<T>;
  /** Stops the studio (SIGTERM) and removes its data folder. */
  stop(): Promise<void>;
}

const ADMIN_EMAIL = "bench@studio.local";
const ADMIN_PASSWORD = "bench-admin-password";

/** Refuses to start without a production build, so start-up figures exclude `next build`. */
export function requireProductionBuild(): void {
  if (!fs.existsSync(path.join(import.meta.dirname, "..", "..", ".next", "BUILD_ID"))) {
    console.error("No production build: run `npx next build` (or `npm start` once) first, so start-up time excludes the build.");
    process.exit(1);
  }
}

/** Creates the data folder; `prepare` fills the import root before the studio starts. */
export async function startBenchStudio(port: number, prepare: (importRoot: string) => Promise<unknown> = async () => {}): Promise<BenchStudio> {
  const base = `http://localhost:${port}`;
  const work = fs.mkdtempSync(path.join(os.tmpdir(), "studio-bench-"));
  // Side by side: the studio never imports from its own data folder.
  const dataDir = path.join(work, "data");
  const importRoot = path.join(work, "imports");
  for (const dir of [dataDir, importRoot]) fs.mkdirSync(dir, { recursive: true });
  await prepare(importRoot);
  const startedAt = performance.now();
  const child = spawn(process.execPath, ["--import", "tsx", "workers/supervisor.ts"], {
    env: {
      ...process.env,
      PORT: String(port),
      STUDIO_DATA_DIR: dataDir,
      STUDIO_IMPORT_ROOTS: importRoot,
      STUDIO_EMBEDDED_PG_PORT: String(port + 100),
      STUDIO_ADMIN_EMAIL: ADMIN_EMAIL,
      STUDIO_ADMIN_PASSWORD: ADMIN_PASSWORD,
    },
    stdio: "ignore",
  });

  return {
    base,
    dataDir,
    importRoot,
    process: child,
    startedAt,
    async healthy(timeoutMs = 300_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        if ((await fetch(`${base}/api/health`).catch(() => null))?.ok) return;
        if (child.exitCode !== null) throw new Error("studio exited during start-up");
        if (Date.now() > deadline) throw new Error(`studio not healthy within ${timeoutMs / 1000} s`);
        await new Promise((r) => setTimeout(r, 100));
      }
    },
    async logIn() {
      const res = await fetch(`${base}/api/v1/auth/login`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ email: ADMIN_EMAIL, password: ADMIN_PASSWORD }),
      });
      return ((await res.json()) as { token: string }).token;
    },
    async trpc<T>(token: string, procedure: string, input: unknown, mutation = false): Promise<T> {
      const serialized = JSON.stringify(superjson.serialize(input));
      const url = mutation ? `${base}/api/trpc/${procedure}` : `${base}/api/trpc/${procedure}?input=${encodeURIComponent(serialized)}`;
      const res = await fetch(url, {
        method: mutation ? "POST" : "GET",
        headers: { authorization: `Bearer ${token}`, ...(mutation && { "content-type": "application/json" }) },
        body: mutation ? serialized : undefined,
      });
      const body = (await res.json()) as { result?: { data: unknown }; error?: { json: { message: string } } };
      if (!body.result) throw new Error(`${procedure}: ${body.error?.json.message ?? res.status}`);
      return superjson.deserialize(body.result.data as never) as T;
    },
    async stop() {
      await new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once("exit", () => resolve());
        child.kill("SIGTERM");
      });
      fs.rmSync(work, { recursive: true, force: true });
    },
  };
}
