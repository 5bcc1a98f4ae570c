import path from "node:path";
import autocannon from "autocannon";
import { makeShapesImageFolder } from "@/server/ml/data/testing/shapes";
import { requireProductionBuild, startBenchStudio } from "./studio";

/**
 * `npm run bench:platform`: seconds from `npm start` to healthy (on an existing build), then under
 * load (autocannon, loopback, 50 connections, 10 s): /api/health, an authenticated tRPC query, and
 * the old dialects' status reads with an API key (seed 004 /task_status/<id>, seed 001
 * /api/v2/training/<id>, seed 002 /api/v1/experiments/<id>) of an experiment the bench creates.
 * Prints one JSON line per figure.
 */
requireProductionBuild();
const studio = await startBenchStudio(Number(process.env.BENCH_PORT ?? 3931), (importRoot) =>
  makeShapesImageFolder(path.join(importRoot, "shapes"), { classes: 2, perClass: 4, size: 32, seed: 1 }),
);
const { base } = studio;

try {
  await studio.healthy();
  console.log(JSON.stringify({ figure: "start_to_healthy_s", value: +((performance.now() - studio.startedAt) / 1000).toFixed(2), note: "fresh data folder: includes initdb and migrations" }));

  const token = await studio.logIn();
  const trpc = <T>(procedure: string, input: unknown, mutation = false) => studio.trpc<T>(token, procedure, input, mutation);

  // What an old client polls: an experiment of the key's team (created, not started, so the studio stays idle).
  const { key } = await trpc<{ key: string }>("account.createApiKey", { name: "bench" }, true);
  const projectId = (await trpc<{ id: number; name: string }[]>("projects.list", undefined)).find((p) => p.name === "default")!.id;
  const dataset = await trpc<{ id: number }>("datasets.importFromPath", { projectId, name: "shapes", path: path.join(studio.importRoot, "shapes") }, true);
  const task = await trpc<{ id: number }>("experiments.create", { projectId, name: "polled", datasetId: dataset.id, model: "reference-cnn", hyperparameters: { epochs: 1 } }, true);
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
  await studio.stop();
}
