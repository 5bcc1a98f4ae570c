import { spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import autocannon from "autocannon";
import superjson from "superjson";
import { makeShapesImageFolder } from "@/server/ml/data/testing/shapes";

/**
 * `npm run bench:platform`: seconds from `npm start` to healthy (on an existing build), then under
 * load (autocannon, loopback, 50 connections, 10 s): /api/health, an authenticated tRPC query, and
 * the old dialects' status reads with an API key (seed 004 /task_status/<id>, seed 001
 * /api/v2/training/<id>, seed 002 /api/v1/experiments/<id>) of an experiment the bench creates.
 * Prints one JSON line per figure.
 */
const port = Number(process.env.BENCH_PORT ?? 3931);
const base = `http://localhost:${port}`;
const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "studio-bench-"));
const importRoot = path.join(dataDir, "imports");
const password = "bench-admin-password";

if (!fs.existsSync(path.join(import.meta.dirname, "..", "..", ".next", "BUILD_ID"))) {
  console.error("No production build: run `npx next build` (or `npm start` once) first, so start-up time excludes the build.");
  process.exit(1);
}

await makeShapesImageFolder(path.join(importRoot, "shapes"), { classes: 2, perClass: 4, size: 32, seed: 1 });

const started = performance.now();
const studio = spawn(process.execPath, ["--import", "tsx", "workers/supervisor.ts"], {
  env: { ...process.env, PORT: String(port), STUDIO_DATA_DIR: dataDir, STUDIO_IMPORT_ROOTS: importRoot, STUDIO_EMBEDDED_PG_PORT: String(port + 100), STUDIO_ADMIN_EMAIL: "bench@studio.local", STUDIO_ADMIN_PASSWORD: password },
  stdio: "ignore",
});

async function healthy(): Promise<boolean> {
  try {
    return (await fetch(`${base}/api/health`)).ok;
  } catch {
    return false;
  }
}

async function trpc<T>(token: string, procedure: string, input: unknown, mutation = false): Promise<T> {
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

  // What an old client polls: an experiment of the key's team (created, not started, so the studio stays idle).
  const { key } = await trpc<{ key: string }>(token, "account.createApiKey", { name: "bench" }, true);
  const projectId = (await trpc<{ id: number; name: string }[]>(token, "projects.list", undefined)).find((p) => p.name === "default")!.id;
  const dataset = await trpc<{ id: number }>(token, "datasets.importFromPath", { projectId, name: "shapes", path: path.join(importRoot, "shapes") }, true);
  const task = await trpc<{ id: number }>(token, "experiments.create", { projectId, name: "polled", datasetId: dataset.id, model: "reference-cnn", hyperparameters: { epochs: 1 } }, true);
  const withKey = { authorization: `Bearer ${key}` };

  const targets = [
    { name: "GET /api/health", url: `${base}/api/health`, headers: {} as Record<string, string> },
    { name: "tRPC projects.list (Bearer JWT)", url: `${base}/api/trpc/projects.list`, headers: { authorization: `Bearer ${token}` } },
    { name: "GET /task_status/<id> (API key)", url: `${base}/task_status/${task.id}`, headers: withKey },
    { name: "GET /api/v2/training/<id> (API key)", url: `${base}/api/v2/training/${task.id}`, headers: withKey },
    { name: "GET /api/v1/experiments/<id> (API key)", url: `${base}/api/v1/experiments/${task.id}`, headers: withKey },
    // Identical requests in flight share one answer; a query string no handler reads makes every request its own read.
    { name: "GET /task_status/<id>?poll=<n> (API key, no in-flight sharing)", url: `${base}/task_status/${task.id}`, headers: withKey, uniquePaths: true },
  ];
  for (const target of targets) {
    let poll = 0;
    const requests = "uniquePaths" in target ? [{ setupRequest: <R extends { path: string }>(request: R): R => ({ ...request, path: `${new URL(target.url).pathname}?poll=${poll++}` }) }] : undefined;
    await autocannon({ url: target.url, headers: target.headers, connections: 10, duration: 2, requests });
    const result = await autocannon({ url: target.url, headers: target.headers, connections: 50, duration: 10, requests });
    console.log(
      JSON.stringify({
        figure: target.name,
        connections: 50,
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
