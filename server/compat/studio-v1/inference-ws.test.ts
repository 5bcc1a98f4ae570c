import { execFileSync } from "node:child_process";
import { mkdir, mkdtemp, readFile, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { createDialectWorld, type DialectWorld } from "@/server/compat/shared/testing";
import { resetEnvCache } from "@/server/env";
import { closeInferenceWorker } from "@/server/inference/client";
import { ffmpegAvailable } from "@/server/inference/devices";
import { predictParams } from "@/server/inference/schemas";
import { predictImages } from "@/server/inference/service";
import { inferenceFixture, testImage } from "@/server/inference/testing";
import { ORIGIN } from "@/server/http/testing";
import { defaultProject } from "@/server/projects/service";
import { importUploadedWeights } from "@/server/weights/upload";
import { uploadRequest } from "@/server/weights/testing";
import { startRealtimeServer, type RealtimeServer } from "@/server/realtime/server";

let w: DialectWorld;
let server: RealtimeServer;
let work: string;
let detectorId: number;

beforeAll(async () => {
  work = await mkdtemp(path.join(os.tmpdir(), "inference-ws-"));
  process.env.STUDIO_DATA_DIR = path.join(work, "data");
  process.env.STUDIO_IMPORT_ROOTS = path.join(work, "videos");
  await mkdir(path.join(work, "videos"), { recursive: true });
  resetEnvCache();
  w = await createDialectWorld();
  const bytes = await readFile(inferenceFixture("ultralytics_detect.onnx"));
  detectorId = (await importUploadedWeights(w.ctx, uploadRequest("http://t/api/weights", { bytes, filename: "yolo.onnx" }, { project_id: String((await defaultProject(w.ctx)).id) }))).id;
  server = await startRealtimeServer({ db: w.tdb.db, databaseUrl: w.tdb.url, port: 0, origin: ORIGIN, dataDir: work });
}, 120_000);

afterAll(async () => {
  delete process.env.STUDIO_IMPORT_ROOTS;
  await server?.close();
  await closeInferenceWorker();
  await w?.close();
  await rm(work, { recursive: true, force: true });
});

/** Opens the socket and collects its JSON packets. */
async function connect() {
  const socket = new WebSocket(`ws://127.0.0.1:${server.port}/ws/inference/stream`, { headers: { authorization: `Bearer ${w.key}` } });
  const packets: { type: string; data: Record<string, unknown> }[] = [];
  socket.on("message", (raw, isBinary) => {
    if (!isBinary) packets.push(JSON.parse(raw.toString()));
  });
  await new Promise((resolve) => socket.once("open", resolve));
  const next = async (type: string) => {
    await expect.poll(() => packets.some((p) => p.type === type), { timeout: 15_000 }).toBe(true);
    return packets.splice(packets.findIndex((p) => p.type === type), 1)[0];
  };
  return { socket, next };
}

describe("/ws/inference/stream", () => {
  it("answers the browser's frames with the predict path's detections, frame by frame", async () => {
    const { socket, next } = await connect();
    expect((await next("status")).data).toEqual({ status: "ready" });
    socket.send(JSON.stringify({ command: "start", model: `w${detectorId}`, conf: 0.3 }));
    expect((await next("status")).data).toMatchObject({ status: "running", source: "client" });
    const png = await testImage(96, 64);
    socket.send(png);
    const packet = await next("detections");
    const expected = await predictImages(w.ctx, detectorId, [{ bytes: png, label: "x" }], predictParams.parse({ conf: 0.3 }));
    expect(packet.data).toMatchObject({ model_id: detectorId, provider: "cpu", frame: 1, latency_ms: expect.any(Number) });
    expect((packet.data.images as { detections: unknown }[])[0].detections).toEqual(expected.images[0].detections);
    socket.send(JSON.stringify({ command: "frame", image: "%% not base64" }));
    expect((await next("error")).data.detail).toMatch(/not valid base64/);
    socket.send(JSON.stringify({ command: "start", model: "w999999" }));
    socket.send(png);
    expect((await next("error")).data.detail).toMatch(/not found/);
    socket.close();
  });

  it("runs a server-side source from the devices list and pushes its frames with their detections until stop", async ({ skip }) => {
    if (!(await ffmpegAvailable())) return skip();
    execFileSync("ffmpeg", ["-loglevel", "error", "-f", "lavfi", "-i", "testsrc=size=160x120:rate=10", "-t", "20", "-pix_fmt", "yuv420p", path.join(work, "videos", "clip.mp4")]);
    const { socket, next } = await connect();
    await next("status");
    socket.send(JSON.stringify({ command: "start", model: detectorId, camera: "file:1", format: "base64", conf: 0.01 }));
    expect((await next("status")).data).toMatchObject({ status: "running", source: "server", camera: "file:1" });
    const frame = await next("frame");
    expect(frame.data.image).toMatch(/^data:image\/jpeg;base64,\/9j\//);
    expect(frame.data).toMatchObject({ model_id: detectorId, frame: expect.any(Number), latency_ms: expect.any(Number) });
    expect((frame.data.images as { width: number; height: number }[])[0]).toMatchObject({ width: 160, height: 120 });
    socket.send(JSON.stringify({ command: "stop" }));
    expect((await next("status")).data).toMatchObject({ status: "stopped" });
    socket.send(JSON.stringify({ command: "start", model: detectorId, camera: "http://169.254.169.254/latest" }));
    expect((await next("error")).data.detail).toMatch(/not one of this studio's stream URLs/);
    socket.close();
  });
});
