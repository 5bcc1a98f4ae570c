"use client";

import { useQuery } from "@tanstack/react-query";
import { useEffect, useRef, useState } from "react";
import { useT } from "@/components/i18n";
import { useTRPC } from "@/components/trpc";
import type { PredictResult } from "@/server/inference/schemas";

// The two live modes of the Inference page, both over /ws/inference/stream: the browser's camera (its
// frames go up, boxes come back) and a server-side source (the server captures; frames and boxes come back).

interface LiveProps {
  weightsId: number;
  conf: number;
  iou: number;
}

type Packet = { type: string; data: PredictResult & { latency_ms: number; frame?: number; image?: string; status?: string; reason?: string; dropped?: number; detail?: string } };

const streamSocket = () => new WebSocket(`${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/ws/inference/stream`);

/** The frame, then each box with its name and confidence (or a classifier's top class). */
function drawResult(canvas: HTMLCanvasElement, frame: CanvasImageSource, width: number, height: number, result: PredictResult): void {
  canvas.width = width;
  canvas.height = height;
  const g = canvas.getContext("2d")!;
  g.drawImage(frame, 0, 0);
  g.lineWidth = 2;
  g.font = "14px sans-serif";
  g.strokeStyle = g.fillStyle = "#FF3838";
  for (const d of result.images[0]?.detections ?? []) {
    g.strokeRect(d.box.x1, d.box.y1, d.box.x2 - d.box.x1, d.box.y2 - d.box.y1);
    g.fillText(`${d.name} ${d.confidence.toFixed(2)}`, d.box.x1 + 2, Math.max(14, d.box.y1 - 4));
  }
  const top = result.images[0]?.top_k?.[0];
  if (top) g.fillText(`${top.name} ${top.confidence.toFixed(2)}`, 8, 20);
}

export function Webcam({ weightsId, conf, iou }: LiveProps) {
  const { t } = useT();
  const [on, setOn] = useState(false);
  const [stats, setStats] = useState({ fps: 0, latency: 0 });
  const video = useRef<HTMLVideoElement>(null);
  const canvas = useRef<HTMLCanvasElement>(null);

  useEffect(() => {
    if (!on) return;
    let stopped = false;
    let media: MediaStream | null = null;
    const socket = streamSocket();
    const grab = document.createElement("canvas");
    let inFlight = false;
    let answered: number[] = [];
    const sendFrame = () => {
      const v = video.current;
      if (stopped || !v || inFlight || socket.readyState !== WebSocket.OPEN || v.videoWidth === 0) return;
      grab.width = v.videoWidth;
      grab.height = v.videoHeight;
      grab.getContext("2d")!.drawImage(v, 0, 0);
      grab.toBlob((blob) => {
        if (!blob || stopped) return;
        inFlight = true;
        void blob.arrayBuffer().then((bytes) => socket.send(bytes));
      }, "image/jpeg", 0.8);
    };
    socket.onopen = () => socket.send(JSON.stringify({ command: "start", model: weightsId, conf, iou }));
    socket.onmessage = (event) => {
      const packet = JSON.parse(String(event.data)) as Packet;
      if (packet.type === "status" && packet.data.status === "running") sendFrame();
      if (packet.type !== "detections" && packet.type !== "error") return;
      inFlight = false;
      if (packet.type === "detections") {
        const now = performance.now();
        answered = [...answered.filter((at) => now - at < 1000), now];
        setStats({ fps: answered.length, latency: packet.data.latency_ms });
        if (canvas.current && video.current) drawResult(canvas.current, video.current, video.current.videoWidth, video.current.videoHeight, packet.data);
      }
      requestAnimationFrame(sendFrame);
    };
    navigator.mediaDevices
      .getUserMedia({ video: true })
      .then((stream) => {
        media = stream;
        if (video.current) video.current.srcObject = stream;
        return video.current?.play();
      })
      .catch(() => setOn(false));
    return () => {
      stopped = true;
      socket.close();
      media?.getTracks().forEach((track) => track.stop());
    };
  }, [on, weightsId, conf, iou]);

  return (
    <section>
      <button data-testid="inference-webcam" onClick={() => setOn(!on)}>
        {on ? t("inferStopWebcam") : t("inferWebcam")}
      </button>
      {on && (
        <p>
          {t("inferFps")}: {stats.fps} · {t("inferLatency")}: {stats.latency.toFixed(0)} ms
        </p>
      )}
      <video ref={video} muted playsInline hidden />
      <canvas ref={canvas} style={{ maxWidth: "100%", display: on ? "block" : "none" }} />
    </section>
  );
}

/** A camera, video file or configured stream URL of the server, from the devices list. */
export function ServerStream({ weightsId, conf, iou }: LiveProps) {
  const { t, withDetail } = useT();
  const trpc = useTRPC();
  const devices = useQuery(trpc.inference.devices.queryOptions());
  const sources = [
    ...(devices.data?.cameras ?? []).map((camera) => ({ id: camera.id, label: t("inferCamera", { id: camera.id }) })),
    ...(devices.data?.sources ?? []).map((source) => ({ id: source.id, label: source.kind === "file" ? (source.path.split("/").pop() ?? source.id) : source.path })),
  ];
  const [picked, setPicked] = useState<string | null>(null);
  const [on, setOn] = useState(false);
  const [ending, setEnding] = useState<{ reason: string; dropped: number } | { detail: string } | null>(null);
  const [stats, setStats] = useState({ frame: 0, latency: 0 });
  const canvas = useRef<HTMLCanvasElement>(null);
  const source = picked ?? sources[0]?.id ?? null;

  useEffect(() => {
    if (!on || source === null) return;
    const socket = streamSocket();
    socket.onopen = () => socket.send(JSON.stringify({ command: "start", model: weightsId, camera: source, format: "base64", conf, iou }));
    socket.onmessage = (event) => {
      const packet = JSON.parse(String(event.data)) as Packet;
      if (packet.type === "frame" && packet.data.image) {
        const data = packet.data;
        const frame = new Image();
        frame.onload = () => canvas.current && drawResult(canvas.current, frame, frame.naturalWidth, frame.naturalHeight, data);
        frame.src = data.image!;
        setStats({ frame: data.frame ?? 0, latency: data.latency_ms });
      } else if (packet.type === "status" && packet.data.status === "stopped" && packet.data.reason !== "stopped") {
        setEnding({ reason: packet.data.reason ?? "", dropped: packet.data.dropped ?? 0 });
        setOn(false);
      } else if (packet.type === "error") {
        setEnding({ detail: packet.data.detail ?? "" });
        setOn(false);
      }
    };
    return () => {
      if (socket.readyState === WebSocket.OPEN) socket.send(JSON.stringify({ command: "stop" }));
      socket.close();
    };
  }, [on, source, weightsId, conf, iou]);

  if (!devices.data) return null;
  return (
    <section data-testid="inference-server-stream">
      <h2>{t("inferServerStream")}</h2>
      {!devices.data.ffmpeg && <p>{t("inferNoFfmpeg")}</p>}
      {sources.length === 0 ? (
        <p>{t("inferNoSources")}</p>
      ) : (
        <div className="toolbar">
          <label>
            {t("inferSource")}{" "}
            <select data-testid="inference-stream-source" value={source ?? ""} onChange={(e) => setPicked(e.target.value)} disabled={on}>
              {sources.map((s) => (
                <option key={s.id} value={s.id}>
                  {s.label}
                </option>
              ))}
            </select>
          </label>
          <button
            data-testid="inference-stream-toggle"
            disabled={!devices.data.ffmpeg}
            onClick={() => {
              setEnding(null);
              setOn(!on);
            }}
          >
            {on ? t("inferStopStream") : t("inferStartStream")}
          </button>
          {on && stats.frame > 0 && (
            <span>
              {t("inferFrame", { n: stats.frame })} · {t("inferLatency")}: {stats.latency.toFixed(0)} ms
            </span>
          )}
        </div>
      )}
      {ending && (
        <p role="status" data-testid="inference-stream-status">
          {"detail" in ending
            ? withDetail(t("errorGeneric"), ending.detail)
            : t("inferStreamEnded", { reason: ending.dropped > 0 ? `${ending.reason} (${t("inferDropped", { count: ending.dropped })})` : ending.reason })}
        </p>
      )}
      <canvas ref={canvas} data-testid="inference-stream-canvas" style={{ maxWidth: "100%", display: on ? "block" : "none" }} />
    </section>
  );
}
