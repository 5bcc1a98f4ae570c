import http from "node:http";
import type { AddressInfo } from "node:net";
import os from "node:os";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { appendLog, claimLease, finishRun, recordMetrics } from "@/server/experiments/lease";
import { createExperiment } from "@/server/experiments/lifecycle";
import { startRealtimeServer, type RealtimeServer } from "@/server/realtime/server";
import { topicWakeups } from "@/server/events/topic-wakeups";
import { streamTrainingLogs } from "@/server/compat/training-metrics/handlers";
import { bearer, createDialectWorld, type DialectWorld, routeContext } from "./testing";

let w: DialectWorld;
let sseServer: http.Server;
let sseUrl: string;
let realtime: RealtimeServer;
const sockets: WebSocket[] = [];

/** Serves the SSE handler over real HTTP, as Next does, so the client below is a plain fetch. It never polls: only events wake it. */
function startSseServer(): Promise<void> {
  sseServer = http.createServer(async (req, res) => {
    const aborted = new AbortController();
    res.on("close", () => aborted.abort());
    const taskId = /^\/api\/v2\/training\/([^/]+)\/logs/.exec(req.url ?? "")?.[1] ?? "";
    const headers = new Headers();
    for (const [name, value] of Object.entries(req.headers)) if (typeof value === "string") headers.set(name, value);
    const response = await streamTrainingLogs(new Request(`http://studio.test${req.url}`, { headers, signal: aborted.signal }), routeContext({ task_id: taskId }, { db: w.tdb.db, wakeups: topicWakeups(w.tdb.url), idleCheckMs: 60_000 }));
    res.writeHead(response.status, Object.fromEntries(response.headers));
    const reader = response.body?.getReader();
    for (let chunk = await reader?.read(); chunk && !chunk.done; chunk = await reader?.read()) res.write(chunk.value);
    res.end();
  });
  return new Promise((resolve) => sseServer.listen(0, "127.0.0.1", () => resolve()));
}

interface SseEvent {
  id: string | null;
  data: Record<string, unknown>;
}

/** A minimal EventSource: reads frames until `until` says stop or the server ends the stream. */
async function readSse(path: string, headers: Record<string, string>, until: (events: SseEvent[]) => boolean): Promise<{ events: SseEvent[]; ended: boolean; status: number }> {
  const controller = new AbortController();
  const res = await fetch(`${sseUrl}${path}`, { headers, signal: controller.signal });
  if (!res.ok || !res.body) return { events: [], ended: true, status: res.status };
  expect(res.headers.get("content-type")).toMatch(/^text\/event-stream/);
  const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
  const events: SseEvent[] = [];
  let buffer = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return { events, ended: true, status: res.status };
    buffer += value;
    let end: number;
    while ((end = buffer.indexOf("\n\n")) >= 0) {
      const frame = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      const lines = frame.split("\n");
      const data = lines.filter((l) => l.startsWith("data: ")).map((l) => l.slice(6));
      if (data.length) events.push({ id: lines.find((l) => l.startsWith("id: "))?.slice(4) ?? null, data: JSON.parse(data.join("\n")) });
    }
    if (until(events)) {
      controller.abort();
      await reader.cancel().catch(() => {});
      return { events, ended: false, status: res.status };
    }
  }
}

async function queuedExperiment(name: string) {
  const experiment = await createExperiment(w.ctx, { projectId: w.defaultProjectId, name, datasetId: w.datasetId, model: "reference-cnn", hyperparameters: { epochs: 2 }, start: true }, { boss: w.boss });
  const lease = await claimLease(w.tdb.db, experiment.id, experiment.attempt);
  if (!lease) throw new Error(`could not claim experiment ${experiment.id}`);
  return { id: experiment.id, lease };
}

beforeAll(async () => {
  w = await createDialectWorld();
  await startSseServer();
  sseUrl = `http://127.0.0.1:${(sseServer.address() as AddressInfo).port}`;
  realtime = await startRealtimeServer({ db: w.tdb.db, databaseUrl: w.tdb.url, port: 0, origin: "http://studio.test", dataDir: os.tmpdir(), busProbeIntervalMs: 500 });
}, 60_000);

afterAll(async () => {
  sockets.forEach((s) => s.terminate());
  await realtime?.close();
  sseServer?.closeAllConnections();
  await new Promise((resolve) => sseServer?.close(resolve));
  await w?.close();
});

describe("seed 001 log stream (Server-Sent Events)", () => {
  it("sends the documented entries, resumes after Last-Event-ID, and ends with the run", async () => {
    const { id, lease } = await queuedExperiment("sse");
    await appendLog(w.tdb.db, lease, { level: "info", stage: "epoch_start", message: "Epoch [1/2] started", epoch: 1 });
    await appendLog(w.tdb.db, lease, { level: "info", stage: "training", message: "Train Loss: 0.5234, Train Accuracy: 82.45%", epoch: 1 });
    const path = `/api/v2/training/${id}/logs`;

    const first = await readSse(path, bearer(w.key), (events) => events.length >= 2);
    expect(first.events.map((e) => e.id)).toEqual(["1", "2"]);
    expect(first.events[1].data).toEqual({
      timestamp: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d$/),
      level: "INFO",
      message: "Train Loss: 0.5234, Train Accuracy: 82.45%",
      metrics: { epoch: 1, total_epochs: 2, train_loss: 0.5234, train_acc: 82.45 },
      stage: "training",
    });

    // Written while the client was away: a reconnect with its last id gets exactly these, then the end.
    await appendLog(w.tdb.db, lease, { level: "info", stage: "validation", message: "Validation macro_F1: 0.7654", epoch: 1 });
    const resumed = readSse(path, { ...bearer(w.key), "last-event-id": "2" }, () => false);
    await new Promise((resolve) => setTimeout(resolve, 200));
    await appendLog(w.tdb.db, lease, { level: "info", stage: "completed", message: "Training completed" });
    await finishRun(w.tdb.db, lease, { status: "completed", progress: 100 });
    const rest = await resumed;
    expect(rest.ended).toBe(true);
    expect(rest.events.map((e) => [e.id, e.data.message, e.data.stage])).toEqual([
      ["3", "Validation macro_F1: 0.7654", "validation"],
      ["4", "Training completed", "completed"],
    ]);
    expect(rest.events[0].data.metrics).toEqual({ epoch: 1, total_epochs: 2, macro_f1: 0.7654 });

    const sinceQuery = await readSse(`${path}?since=3`, bearer(w.key), () => false);
    expect(sinceQuery.events.map((e) => e.id)).toEqual(["4"]);
  });

  it("sends its headers and a first comment at once, before the run has written any line", async () => {
    const { id } = await queuedExperiment("sse-silent");
    const controller = new AbortController();
    const res = await fetch(`${sseUrl}/api/v2/training/${id}/logs`, { headers: bearer(w.key), signal: controller.signal });
    expect(res.headers.get("content-type")).toMatch(/^text\/event-stream/);
    const first = await res.body!.pipeThrough(new TextDecoderStream()).getReader().read();
    controller.abort();
    // The stream's idle wait is a minute here: this chunk can only be the opening comment.
    expect(first.value).toBe(": connected\n\n");
  });

  it("answers 401 without credentials and 404 for another team's task", async () => {
    const { id } = await queuedExperiment("sse-private");
    expect((await fetch(`${sseUrl}/api/v2/training/${id}/logs`)).status).toBe(401);
    const other = await fetch(`${sseUrl}/api/v2/training/${id}/logs`, { headers: bearer(w.otherKey) });
    expect(other.status).toBe(404);
    expect(await other.json()).toEqual({ detail: `Experiment ${id} not found` });
  });
});

type Packet = { type: string; data: unknown; seq?: number };

function connect(path: string, headers: Record<string, string>): { socket: WebSocket; packets: Packet[]; next(predicate: (p: Packet) => boolean): Promise<Packet>; closed: Promise<number> } {
  const socket = new WebSocket(`ws://127.0.0.1:${realtime.port}${path}`, { headers });
  sockets.push(socket);
  const packets: Packet[] = [];
  const waiters: { predicate: (p: Packet) => boolean; resolve: (p: Packet) => void }[] = [];
  socket.on("message", (raw) => {
    const packet = JSON.parse(raw.toString()) as Packet;
    packets.push(packet);
    for (const waiter of [...waiters]) {
      if (waiter.predicate(packet)) {
        waiters.splice(waiters.indexOf(waiter), 1);
        waiter.resolve(packet);
      }
    }
  });
  return {
    socket,
    packets,
    next(predicate) {
      const seen = packets.find(predicate);
      if (seen) return Promise.resolve(seen);
      return new Promise((resolve) => waiters.push({ predicate, resolve }));
    },
    closed: new Promise((resolve) => socket.once("close", (code) => resolve(code))),
  };
}

describe("seed 002 training WebSocket (/ws/training/{id})", () => {
  it("pushes log, metrics_update and status_change packets as §3.2 shows them, and replays from ?since=", async () => {
    const { id, lease } = await queuedExperiment("ws");
    const live = connect(`/ws/training/${id}`, bearer(w.key));
    expect(await live.next((p) => p.type === "status_change")).toEqual({ type: "status_change", data: { status: "running", end_time: null } });

    const seq = await appendLog(w.tdb.db, lease, { level: "info", stage: "training", message: "Epoch 1/2: train_loss: 0.054", epoch: 1 });
    expect(await live.next((p) => p.type === "log")).toEqual({ type: "log", data: "[INFO] Epoch 1/2: train_loss: 0.054", seq });

    await recordMetrics(w.tdb.db, lease, { epoch: 1, step: 0, values: { train_loss: 0.054, val_loss: 0.062, top1_acc: 0.88, learning_rate: 0.01 } });
    expect(await live.next((p) => p.type === "metrics_update")).toEqual({ type: "metrics_update", data: { epoch: 1, train_loss: 0.054, val_loss: 0.062, val_metric: 0.88 } });

    // A client that drops here misses the next epoch's line and metrics and the end of the run.
    live.socket.close();
    await appendLog(w.tdb.db, lease, { level: "warn", stage: "training", message: "Epoch 2/2: slow step", epoch: 2 });
    await recordMetrics(w.tdb.db, lease, { epoch: 2, step: 0, values: { train_loss: 0.04, val_loss: 0.05, top1_acc: 0.9 } });
    await finishRun(w.tdb.db, lease, { status: "completed", progress: 100 });

    const again = connect(`/ws/training/${id}?since=${seq}`, bearer(w.key));
    const done = await again.next((p) => p.type === "status_change");
    expect(done).toEqual({ type: "status_change", data: { status: "completed", end_time: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/) } });
    // Log lines resume exactly after `since`; metrics written since that line are resent (keyed by epoch, so a repeat is harmless).
    expect(again.packets.filter((p) => p.type === "log")).toEqual([{ type: "log", data: "[WARN] Epoch 2/2: slow step", seq: seq + 1 }]);
    expect(again.packets.filter((p) => p.type === "metrics_update")).toContainEqual({ type: "metrics_update", data: { epoch: 2, train_loss: 0.04, val_loss: 0.05, val_metric: 0.9 } });
    expect(again.packets.at(-1)).toEqual(done);
  });

  it("closes with 4404 for another team's experiment and 4401 without credentials", async () => {
    const { id } = await queuedExperiment("ws-private");
    expect(await connect(`/ws/training/${id}`, bearer(w.otherKey)).closed).toBe(4404);
    expect(await connect(`/ws/training/${id}`, {}).closed).toBe(4401);
  });
});
