import path from "node:path";
import autocannon from "autocannon";
import superjson from "superjson";
import { io } from "socket.io-client";
import { makeShapesImageFolder } from "@/server/ml/data/testing/shapes";
import { requireProductionBuild, startBenchStudio } from "./studio";
import type { StudioEvent } from "@/server/events/types";

/**
 * `npm run bench:experiments` (tsx server/bench/experiments.ts), on an existing production build:
 * starts the whole studio (web, one training worker, realtime sidecar) on a fresh data folder, then
 * prints one JSON line per figure:
 *  - submit → first training step on a warm worker (tRPC create+start until the first step's metrics event), median of 10;
 *  - worker log line → socket.io client latency p50/p95 (the row's database time to arrival, same host);
 *  - status routes (tRPC experiments.byId, seed 004 /task_status/<id>) requests/s and p99, 100 connections, during a run.
 */
requireProductionBuild();
const studio = await startBenchStudio(Number(process.env.BENCH_PORT ?? 3941), (importRoot) =>
  makeShapesImageFolder(path.join(importRoot, "shapes"), { classes: 3, perClass: 20, size: 32, seed: 1 }),
);
const { base } = studio;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const percentile = (values: number[], p: number) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
};

let token = "";
const trpc = <T>(procedure: string, input: unknown, mutation = false) => studio.trpc<T>(token, procedure, input, mutation);

async function until<T>(what: string, probe: () => Promise<T | undefined | false>, timeoutMs = 300_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe().catch(() => undefined);
    if (value) return value;
    if (Date.now() > deadline || studio.process.exitCode !== null) throw new Error(`gave up waiting for ${what}`);
    await sleep(100);
  }
}

type Experiment = { id: number; status: string };

try {
  await studio.healthy();
  token = await studio.logIn();
  const projects = await trpc<{ id: number; name: string }[]>("projects.list", undefined);
  const projectId = projects.find((p) => p.name === "default")!.id;
  const dataset = await trpc<{ id: number }>("datasets.importFromPath", { projectId, name: "shapes", path: path.join(studio.importRoot, "shapes") }, true);
  await until("the dataset import", async () => (await trpc<{ status: string }>("datasets.byId", { id: dataset.id })).status === "ready");

  const socket = io(base, { transports: ["websocket"], auth: { token } });
  await until("the socket", async () => socket.connected);
  const listeners = new Set<(event: StudioEvent) => void>();
  socket.on("event", (event) => listeners.forEach((listener) => listener(event)));
  const follow = async (id: number) => {
    const ack = await socket.timeout(5000).emitWithAck("subscribe", { topic: `experiment:${id}` });
    if (!ack.ok) throw new Error(`subscribe experiment:${id}: ${ack.error}`);
  };
  const hyperparameters = { epochs: 200, batch: 8, imgsz: 32, log_every: 1 };
  const createRun = (name: string, epochs = hyperparameters.epochs) =>
    trpc<Experiment>("experiments.create", { projectId, name, datasetId: dataset.id, model: "reference-cnn", hyperparameters: { ...hyperparameters, epochs }, device: "auto", start: true }, true);
  const stopAndWait = async (id: number) => {
    await trpc("experiments.stop", { id }, true);
    await until(`experiment ${id} stopped`, async () => (await trpc<Experiment>("experiments.byId", { id })).status === "stopped");
  };

  // Warm-up run: the worker's first child pays for loading the engine from a cold disk cache.
  const latencies: number[] = [];
  for (let i = 0; i <= 10; i++) {
    let firstStepAt = 0;
    let experimentId = 0;
    const listener = (event: StudioEvent) => {
      if (event.type === "experiment.metrics" && event.experimentId === experimentId && event.step > 0 && !firstStepAt) firstStepAt = performance.now();
    };
    listeners.add(listener);
    const submitted = performance.now();
    const experiment = await createRun(`latency-${i}`);
    experimentId = experiment.id;
    await follow(experiment.id);
    await until("the first step", async () => firstStepAt > 0 || (await trpc<{ step: number }[]>("experiments.metrics", { id: experiment.id })).some((p) => p.step > 0));
    if (i > 0) latencies.push((firstStepAt || performance.now()) - submitted);
    listeners.delete(listener);
    await stopAndWait(experiment.id);
  }
  console.log(JSON.stringify({ figure: "submit_to_first_step_ms", median: Math.round(percentile(latencies, 50)), min: Math.round(Math.min(...latencies)), max: Math.round(Math.max(...latencies)), runs: latencies.length }));

  // A long run for the rest: its log lines measure delivery, its status is what the routes read.
  // Enough epochs that it is still running while the status routes are measured.
  const running = await createRun("load", 100_000);
  await follow(running.id);
  const delivery: number[] = [];
  listeners.add((event) => {
    if (event.type === "experiment.log" && event.experimentId === running.id) delivery.push(Date.now() - Date.parse(event.at));
  });
  await until("200 log lines", async () => delivery.length >= 200, 600_000);
  console.log(JSON.stringify({ figure: "log_line_to_socketio_ms", p50: percentile(delivery, 50), p95: percentile(delivery, 95), samples: delivery.length }));

  const byIdUrl = `${base}/api/trpc/experiments.byId?input=${encodeURIComponent(JSON.stringify(superjson.serialize({ id: running.id })))}`;
  const targets = [
    { name: "tRPC experiments.byId", url: byIdUrl },
    { name: "GET /task_status/<id>", url: `${base}/task_status/${running.id}` },
  ];
  for (const target of targets) {
    const headers = { authorization: `Bearer ${token}` };
    await autocannon({ url: target.url, headers, connections: 10, duration: 2 });
    const result = await autocannon({ url: target.url, headers, connections: 100, duration: 10 });
    console.log(JSON.stringify({ figure: target.name, connections: 100, requests_per_s: Math.round(result.requests.average), p50_ms: result.latency.p50, p99_ms: result.latency.p99, non_2xx: result.non2xx, errors: result.errors }));
  }
  await stopAndWait(running.id);
  socket.close();
} finally {
  await studio.stop();
}
