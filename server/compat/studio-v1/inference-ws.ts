import type { WebSocket } from "ws";
import { parseV1ModelId } from "./inference-mapper";
import type { Ctx } from "@/server/context";
import { DomainError } from "@/server/errors";
import { parsePredictParams, predictImages, decodeBase64Image } from "@/server/inference/service";
import { startInferenceStream, type InferenceStream, type StreamFrame } from "@/server/inference/streams";
import type { PredictParams } from "@/server/inference/schemas";
import type { WsRouteHandler } from "@/server/realtime/ws-routes";

/** A client with more than this unsent gets no new frame until it catches up. */
const MAX_BUFFERED = 1024 * 1024;

type Send = (packet: { type: string; data: unknown }) => void;

/**
 * `/ws/inference/stream` (seed 002 §3.3). `{"command":"start","model":"w1","camera":"0"}` starts a
 * server-side capture (camera number, `file:<n>` or URL): each predicted frame comes as a binary JPEG
 * followed by `{type:"detections"}`, or with `"format":"base64"` as one `{type:"frame", data:{image, …}}`.
 * Without `camera`, the client sends its own frames (binary JPEG, or `{"command":"frame","image":…}`)
 * and gets `{type:"detections"}` for each. The newest frame is always the next one predicted; older
 * ones are dropped. `{"command":"stop"}` ends it; so does closing the socket.
 */
export const inferenceStreamRoute: WsRouteHandler = (socket: WebSocket, { caller, db }) => {
  const ctx: Ctx = { db, caller };
  const send: Send = (packet) => {
    if (socket.readyState === socket.OPEN) socket.send(JSON.stringify(packet));
  };
  const fail = (error: unknown) => send({ type: "error", data: { detail: error instanceof DomainError ? error.message : "Internal server error" } });

  let stream: InferenceStream | null = null;
  let model: { id: number; params: PredictParams } | null = null;
  let latest: { bytes: Uint8Array; at: number } | null = null;
  let busy = false;
  let frames = 0;

  const stopStream = () => {
    stream?.stop();
    stream = null;
  };

  const predictLatest = async () => {
    if (busy || !latest || !model) return;
    const taken = latest;
    latest = null;
    busy = true;
    try {
      const result = await predictImages(ctx, model.id, [{ bytes: taken.bytes, label: `frame ${frames + 1}` }], model.params);
      send({ type: "detections", data: { ...result, frame: ++frames, latency_ms: Number((performance.now() - taken.at).toFixed(1)) } });
    } catch (error) {
      fail(error);
    } finally {
      busy = false;
    }
    void predictLatest();
  };

  const onFrame = (format: "binary" | "base64") => (frame: StreamFrame) => {
    if (socket.bufferedAmount > MAX_BUFFERED) return;
    const data = { ...frame.result, frame: frame.frame, latency_ms: Number(frame.latencyMs.toFixed(1)) };
    if (format === "base64") return send({ type: "frame", data: { image: `data:image/jpeg;base64,${frame.jpeg.toString("base64")}`, ...data } });
    socket.send(frame.jpeg);
    send({ type: "detections", data });
  };

  const start = async (command: Record<string, unknown>) => {
    stopStream();
    model = { id: parseV1ModelId(command.model ?? command.model_id, "model"), params: parsePredictParams(command) };
    if (command.camera === undefined || command.camera === null || command.camera === "") return send({ type: "status", data: { status: "running", source: "client" } });
    const started = await startInferenceStream(ctx, String(command.camera), model.id, model.params);
    stream = started;
    started.on("frame", onFrame(command.format === "base64" ? "base64" : "binary"));
    started.on("end", (reason: string) => {
      if (stream === started) stream = null;
      send({ type: "status", data: { status: "stopped", reason, dropped: started.dropped } });
    });
    send({ type: "status", data: { status: "running", source: "server", camera: String(command.camera) } });
  };

  socket.on("message", (raw, isBinary) => {
    if (isBinary) {
      latest = { bytes: Buffer.isBuffer(raw) ? raw : Buffer.concat(raw as Buffer[]), at: performance.now() };
      return void predictLatest();
    }
    let command: Record<string, unknown>;
    try {
      command = JSON.parse(raw.toString()) as Record<string, unknown>;
    } catch {
      return send({ type: "error", data: { detail: "Messages are JSON commands or binary JPEG frames" } });
    }
    if (command.command === "start") return void start(command).catch(fail);
    if (command.command === "stop") {
      stopStream();
      model = null;
      return send({ type: "status", data: { status: "stopped", reason: "stopped" } });
    }
    if (command.command === "frame") {
      try {
        latest = { bytes: decodeBase64Image(String(command.image ?? "")).bytes, at: performance.now() };
      } catch (error) {
        return fail(error);
      }
      return void predictLatest();
    }
    send({ type: "error", data: { detail: `Unknown command ${JSON.stringify(command.command)}: use start, frame or stop` } });
  });
  socket.on("close", stopStream);
  send({ type: "status", data: { status: "ready" } });
};
