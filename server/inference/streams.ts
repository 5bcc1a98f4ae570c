// Server-side video streams: one supervised ffmpeg child per stream decodes a camera, URL or file into JPEG
// frames; the newest frame is predicted whenever the model is free (older ones are dropped, never queued).

import { spawn, type ChildProcess } from "node:child_process";
import { EventEmitter } from "node:events";
import path from "node:path";
import type { Ctx } from "@/server/context";
import { env } from "@/server/env";
import { Invalid, NotFound } from "@/server/errors";
import { resolveImportPath } from "@/server/datasets/import";
import { ffmpegAvailable, listCameras, listInferenceDevices, VIDEO_EXTENSIONS, withoutCredentials } from "./devices";
import type { PredictParams, PredictResult } from "./schemas";
import { predictImages } from "./service";
import { getWeights } from "@/server/weights/queries";

export interface StreamSource {
  /** What ffmpeg reads. */
  input: string;
  kind: "camera" | "url" | "file";
}

/** Frames per second read from the source; inference takes the newest of them when it is free. */
const STREAM_FPS = 15;

/**
 * A device id as the devices list gives it (`0`, `file:1`, `url:1`), a URL of STUDIO_STREAM_URLS, or a
 * video file under an import root. Any other URL or path is refused: ffmpeg would fetch or read it for the caller.
 */
export async function resolveStreamSource(deviceId: string): Promise<StreamSource> {
  if (/^\d+$/.test(deviceId)) {
    const camera = (await listCameras()).find((c) => c.id === deviceId);
    if (!camera) throw new NotFound(`Camera ${deviceId} not found on this host (no /dev/video${deviceId})`, { device_id: ["not found"] });
    return { input: camera.path, kind: "camera" };
  }
  const { streamUrls, importRoots } = env();
  if (/^url:\d+$/.test(deviceId)) {
    const url = streamUrls[Number(deviceId.slice("url:".length)) - 1];
    if (!url) throw new NotFound(`Stream source ${deviceId} not found: this studio has ${streamUrls.length} stream URL(s) (STUDIO_STREAM_URLS)`, { device_id: ["not found"] });
    return { input: url, kind: "url" };
  }
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(deviceId)) {
    if (streamUrls.includes(deviceId)) return { input: deviceId, kind: "url" };
    throw new Invalid(`${withoutCredentials(deviceId)} is not one of this studio's stream URLs: an administrator lists the URLs streams may read in STUDIO_STREAM_URLS; pick one (url:<n>) from the devices list`, {
      device_id: ["not a configured stream URL"],
    });
  }
  if (deviceId.startsWith("file:")) {
    const source = (await listInferenceDevices()).sources.find((s) => s.id === deviceId);
    if (!source) throw new NotFound(`Stream source ${deviceId} not found`, { device_id: ["not found"] });
    return { input: source.path, kind: "file" };
  }
  const file = path.isAbsolute(deviceId) && importRoots.length > 0 ? await resolveImportPath(deviceId, importRoots, "file").catch(() => null) : null;
  if (file && !VIDEO_EXTENSIONS.has(path.extname(file).toLowerCase())) {
    throw new Invalid(`${path.basename(file)} is not a video file: a stream reads ${[...VIDEO_EXTENSIONS].join(", ")}`, { device_id: ["not a video file"] });
  }
  if (file) return { input: file, kind: "file" };
  throw new NotFound(`Device ${deviceId} not found: use a camera number, file:<n> or url:<n> from the devices list, or a video file under STUDIO_IMPORT_ROOTS`, { device_id: ["not found"] });
}

export interface StreamFrame {
  jpeg: Buffer;
  result: PredictResult;
  /** Capture to answer, in ms. */
  latencyMs: number;
  frame: number;
}

/** ffmpeg's demuxers for the video files a stream may read (VIDEO_EXTENSIONS). */
const FILE_FORMATS = "mov,mp4,matroska,webm,avi,mjpeg,mpjpeg";
/** What a URL source may open: network protocols only, never file:, pipe:, concat: or data:. */
const NETWORK_PROTOCOLS = ["http", "https", "httpproxy", "tcp", "tls", "crypto", "udp", "rtp", "srtp", "rtsp", "rtsps", "rtmp", "rtmps", "rtmpt", "srt"];

/**
 * ffmpeg follows what it reads: a playlist or concat script named `.mp4` under an import root would make it
 * read any other file on the host, and a remote playlist could point at file: URLs. A file source may only be
 * a plain video container on the local disk; a URL source may only use network protocols.
 */
function inputRestrictions(source: StreamSource): string[] {
  if (source.kind === "file") return ["-protocol_whitelist", "file", "-format_whitelist", FILE_FORMATS];
  if (source.kind === "url") {
    const scheme = source.input.slice(0, source.input.indexOf(":")).toLowerCase();
    return ["-protocol_whitelist", [...new Set([scheme, ...NETWORK_PROTOCOLS])].filter((p) => p !== "file").join(",")];
  }
  return [];
}

const SOI = Buffer.from([0xff, 0xd8]);
const EOI = Buffer.from([0xff, 0xd9]);

/**
 * A running stream. Events: `frame` (StreamFrame), `end` (reason: "stopped", "source ended", or the
 * failure), after which the ffmpeg child has exited.
 */
export class InferenceStream extends EventEmitter {
  private child: ChildProcess | null = null;
  private pending: { jpeg: Buffer; at: number } | null = null;
  private busy = false;
  private frames = 0;
  private ended = false;
  dropped = 0;

  constructor(
    private readonly ctx: Ctx,
    readonly source: StreamSource,
    readonly weightsId: number,
    private readonly params: PredictParams,
  ) {
    super();
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  start(): void {
    const args = ["-hide_banner", "-loglevel", "error"];
    if (this.source.kind === "file") args.push("-re");
    if (this.source.kind === "camera") args.push("-f", "v4l2");
    args.push(...inputRestrictions(this.source));
    args.push("-i", this.source.input, "-an", "-r", String(STREAM_FPS), "-f", "image2pipe", "-vcodec", "mjpeg", "-q:v", "5", "pipe:1");
    const child = spawn("ffmpeg", args, { stdio: ["ignore", "pipe", "pipe"] });
    this.child = child;
    let buffer = Buffer.alloc(0);
    let stderr = "";
    child.stdout!.on("data", (chunk: Buffer) => {
      buffer = Buffer.concat([buffer, chunk]);
      for (;;) {
        const start = buffer.indexOf(SOI);
        const end = start < 0 ? -1 : buffer.indexOf(EOI, start + 2);
        if (end < 0) break;
        this.offer(buffer.subarray(start, end + 2));
        buffer = buffer.subarray(end + 2);
      }
    });
    child.stderr!.on("data", (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-2000)));
    child.on("error", (error) => this.finish(`ffmpeg could not start: ${error.message}`));
    child.on("exit", (code, signal) => this.finish(this.ended ? "stopped" : code === 0 ? "source ended" : `the source failed (ffmpeg ${signal ?? `exit ${code}`}): ${stderr.trim().split("\n").pop() ?? ""}`));
  }

  /** The newest frame replaces a waiting one: a slow model drops frames instead of queueing them. */
  private offer(jpeg: Buffer): void {
    if (this.pending) this.dropped++;
    this.pending = { jpeg: Buffer.from(jpeg), at: performance.now() };
    if (!this.busy) void this.next();
  }

  /** The prediction under way, which `end` waits for: no frame comes after it, and no run outlives it. */
  private inFlight: Promise<void> | null = null;

  private next(): Promise<void> {
    const taken = this.pending;
    if (!taken || this.ended) return Promise.resolve();
    this.pending = null;
    this.busy = true;
    this.inFlight = predictImages(this.ctx, this.weightsId, [{ bytes: taken.jpeg, label: `frame ${this.frames + 1}` }], this.params)
      .then((result) => {
        if (!this.ended) this.emit("frame", { jpeg: taken.jpeg, result, latencyMs: performance.now() - taken.at, frame: ++this.frames } satisfies StreamFrame);
      })
      .catch((error: Error) => this.stop(`inference failed: ${error.message}`))
      .finally(() => {
        this.busy = false;
        this.inFlight = null;
        if (this.pending) void this.next();
      });
    return this.inFlight;
  }

  private reason: string | null = null;

  private finish(reason: string): void {
    if (this.child === null) return;
    this.child = null;
    this.ended = true;
    void (this.inFlight ?? Promise.resolve()).then(() => this.emit("end", this.reason ?? reason));
  }

  /** Ends the stream and its ffmpeg child (idempotent); `end` follows once the child has exited and the last prediction is done. */
  stop(reason = "stopped"): void {
    if (this.ended) return;
    this.ended = true;
    this.reason = reason;
    this.child?.kill("SIGTERM");
  }
}

/** Starts a stream after checking what can be checked before spawning: the source allowed and found, ffmpeg present. */
export async function startInferenceStream(ctx: Ctx, deviceId: string, weightsId: number, params: PredictParams): Promise<InferenceStream> {
  const source = await resolveStreamSource(deviceId);
  if (!(await ffmpegAvailable())) throw new Invalid("ffmpeg is not installed on this host: streams need it to decode the camera, URL or file (Debian: apt-get install ffmpeg)", { device_id: ["ffmpeg missing"] });
  await getWeights(ctx, weightsId);
  const stream = new InferenceStream(ctx, source, weightsId, params);
  stream.start();
  return stream;
}

/** Streams started over REST (seed 002 §2.6), one per team in this process. */
const teamStreams = new Map<number, InferenceStream>();

export async function startTeamStream(ctx: Ctx, deviceId: string, weightsId: number, params: PredictParams): Promise<InferenceStream> {
  const stream = await startInferenceStream(ctx, deviceId, weightsId, params);
  teamStreams.get(ctx.caller.teamId)?.stop("replaced by a new stream");
  teamStreams.set(ctx.caller.teamId, stream);
  stream.on("end", () => {
    if (teamStreams.get(ctx.caller.teamId) === stream) teamStreams.delete(ctx.caller.teamId);
  });
  return stream;
}

/** Stops the team's stream, if any: true when one was running. */
export function stopTeamStream(ctx: Ctx): boolean {
  const stream = teamStreams.get(ctx.caller.teamId);
  teamStreams.delete(ctx.caller.teamId);
  stream?.stop();
  return stream !== undefined;
}
