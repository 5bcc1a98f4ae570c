import { spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import autocannon from "autocannon";

/**
 * `npm run bench:platform`: seconds from `npm start` to healthy (on an existing build), then
 * /api/health and an authenticated tRPC query under load (autocannon, loopback, 50 connections, 10 s).
 * Prints one JSON line per figure.
 */
const port = Number(process.env.BENCH_PORT ?? 3931);
const base = `http://localhost:${port}`;
const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "studio-bench-"));
const password = "bench-admin-password";

if (!fs.existsSync(path.join(import.meta.dirname, "..", "..", ".next", "BUILD_ID"))) {
  console.error("No production build: run `npx next build` (or `npm start` once) first, so start-up time excludes the build.");
  process.exit(1);
}

const started = performance.now();
const studio = spawn(process.execPath, ["--import", "tsx", "workers/supervisor.ts"], {
  env: { ...process.env, PORT: String(port), STUDIO_DATA_DIR: dataDir, STUDIO_EMBEDDED_PG_PORT: String(port + 100), STUDIO_ADMIN_EMAIL: "bench@studio.local", STUDIO_ADMIN_PASSWORD: password },
  stdio: "ignore",
});

async function healthy(): Promise<boolean> {
  try {
    return (await fetch(`${base}/api/health`)).ok;
  } catch {
    return false;
  }
}

try {
  while (!(await healthy())) {
    if (studio.exitCode !== null) throw new Error("studio exited during start-up");
    if (performance.now() - started > 300_000) throw new Error("studio not healthy within 300 s");
    await new Promise((r) => setTimeout(r, 100));
  }
  console.log(JSON.stringify({ figure: "start_to_healthy_s", value: +((performance.now() - started) / 1000).toFixed(2), note: "fresh data folder: includes initdb and migrations" }));

  const login = await fetch(`${base}/api/v1/auth/login`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ email: "bench@studio.local", password }),
  });
  const { token } = (await login.json()) as { token: string };

  const targets = [
    { name: "GET /api/health", url: `${base}/api/health`, headers: {} as Record<string, string> },
    { name: "tRPC projects.list (Bearer JWT)", url: `${base}/api/trpc/projects.list`, headers: { authorization: `Bearer ${token}` } },
  ];
  for (const target of targets) {
    await autocannon({ url: target.url, headers: target.headers, connections: 10, duration: 2 });
    const result = await autocannon({ url: target.url, headers: target.headers, connections: 50, duration: 10 });
    console.log(
      JSON.stringify({
        figure: target.name,
        requests_per_s: Math.round(result.requests.average),
        p50_ms: result.latency.p50,
        p99_ms: result.latency.p99,
        non_2xx: result.non2xx,
        errors: result.errors,
      }),
    );
  }
} finally {
  await new Promise<void>((resolve) => {
    if (studio.exitCode !== null) return resolve();
    studio.once("exit", () => resolve());
    studio.kill("SIGTERM");
  });
  fs.rmSync(dataDir, { recursive: true, force: true });
}
