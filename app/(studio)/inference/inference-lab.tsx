"use client";

import { useQuery } from "@tanstack/react-query";
import { useEffect, useRef, useState } from "react";
import { useT } from "@/components/i18n";
import { useTRPC } from "@/components/trpc";
import type { PredictResult } from "@/server/inference/schemas";

// The page's own words until the translator moves them into components/i18n.tsx.
const WORDS = {
  en: { title: "Inference", weights: "Weights", pick: "Choose or drop images", conf: "Confidence", iou: "IoU", run: "Run", download: "Download JSON", webcam: "Webcam", stopWebcam: "Stop webcam", image: "Image", cls: "Class", confidence: "Confidence", box: "Box", fps: "FPS", latency: "Latency", none: "No detections", provider: "Provider", error: "Error" },
  zh: { title: "推理实验室", weights: "权重", pick: "选择或拖入图片", conf: "置信度", iou: "IoU", run: "推理", download: "下载 JSON", webcam: "摄像头", stopWebcam: "关闭摄像头", image: "图片", cls: "类别", confidence: "置信度", box: "框", fps: "帧率", latency: "延迟", none: "无检测结果", provider: "执行设备", error: "错误" },
} as const;

export function InferenceLab() {
  const { lang } = useT();
  const w = WORDS[lang === "zh" ? "zh" : "en"];
  const trpc = useTRPC();
  const entries = useQuery(trpc.weights.list.queryOptions({ limit: 500 }));
  const usable = (entries.data ?? []).filter((e) => e.status === "ready" && (e.task === "detect" || e.task === "classify"));
  const [weightsId, setWeightsId] = useState<number | null>(null);
  const [files, setFiles] = useState<File[]>([]);
  const [conf, setConf] = useState(0.25);
  const [iou, setIou] = useState(0.7);
  const [result, setResult] = useState<PredictResult | null>(null);
  const [error, setError] = useState<string | null>(null);
  const chosen = weightsId ?? usable[0]?.id ?? null;

  useEffect(() => {
    if (chosen === null || files.length === 0) return;
    const form = new FormData();
    form.set("weights_id", String(chosen));
    form.set("conf", String(conf));
    form.set("iou", String(iou));
    form.set("annotate", "true");
    files.forEach((file) => form.append("images", file));
    const controller = new AbortController();
    fetch("/api/inference/predict", { method: "POST", body: form, signal: controller.signal })
      .then(async (res) => {
        const body = await res.json();
        if (!res.ok) throw new Error(body.detail ?? res.statusText);
        setResult(body as PredictResult);
        setError(null);
      })
      .catch((e: Error) => e.name !== "AbortError" && setError(e.message));
    return () => controller.abort();
  }, [chosen, files, conf, iou]);

  const download = () => {
    const url = URL.createObjectURL(new Blob([JSON.stringify(result, null, 2)], { type: "application/json" }));
    const a = document.createElement("a");
    a.href = url;
    a.download = "predictions.json";
    a.click();
    URL.revokeObjectURL(url);
  };

  return (
    <main className="page" data-testid="inference-page">
      <h1>{w.title}</h1>
      <div className="toolbar">
        <label>
          {w.weights}{" "}
          <select data-testid="inference-weights" value={chosen ?? ""} onChange={(e) => setWeightsId(Number(e.target.value))}>
            {usable.map((e) => (
              <option key={e.id} value={e.id}>{`${e.name} (${e.task}, ${e.format})`}</option>
            ))}
          </select>
        </label>
        <label>
          {w.conf} {conf.toFixed(2)}{" "}
          <input data-testid="inference-conf" type="range" min={0.01} max={1} step={0.01} value={conf} onChange={(e) => setConf(Number(e.target.value))} />
        </label>
        <label>
          {w.iou} {iou.toFixed(2)} <input type="range" min={0.05} max={1} step={0.05} value={iou} onChange={(e) => setIou(Number(e.target.value))} />
        </label>
        {result && <button onClick={download}>{w.download}</button>}
      </div>
      <label
        className="dropzone"
        onDragOver={(e) => e.preventDefault()}
        onDrop={(e) => {
          e.preventDefault();
          setFiles([...e.dataTransfer.files].filter((f) => f.type.startsWith("image/")));
        }}
      >
        {w.pick}
        <input data-testid="inference-files" type="file" accept="image/*" multiple hidden onChange={(e) => setFiles([...(e.target.files ?? [])])} />
      </label>
      {error && <p role="alert">{`${w.error}: ${error}`}</p>}
      {result && (
        <p>
          {w.provider}: {result.provider} · imgsz {result.imgsz.join("×")}
        </p>
      )}
      {result?.images.map((image, i) => (
        <section key={i} data-testid="inference-result">
          <h2>{files[i]?.name ?? `${w.image} ${i + 1}`}</h2>
          {image.annotated_image ? <img src={image.annotated_image} alt={files[i]?.name ?? ""} style={{ maxWidth: "100%" }} /> : files[i] && <img src={URL.createObjectURL(files[i])} alt="" style={{ maxWidth: 480 }} />}
          {image.top_k?.map((c) => (
            <div key={c.class_id} className="bar-row">
              <span style={{ display: "inline-block", width: 160 }}>{c.name}</span>
              <span style={{ display: "inline-block", width: `${Math.round(c.confidence * 300)}px`, background: "#4c8bf5", height: 12 }} /> {c.confidence.toFixed(3)}
            </div>
          ))}
          {image.detections && (
            <table data-testid="inference-table">
              <thead>
                <tr>
                  <th>{w.cls}</th>
                  <th>{w.confidence}</th>
                  <th>{w.box}</th>
                </tr>
              </thead>
              <tbody>
                {image.detections.length === 0 && (
                  <tr>
                    <td colSpan={3}>{w.none}</td>
                  </tr>
                )}
                {image.detections.map((d, k) => (
                  <tr key={k}>
                    <td>{d.name}</td>
                    <td>{d.confidence.toFixed(3)}</td>
                    <td>{[d.box.x1, d.box.y1, d.box.x2, d.box.y2].map((v) => v.toFixed(0)).join(", ")}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
          <small>
            {image.width}×{image.height} · {image.speed.preprocess.toFixed(1)} / {image.speed.inference.toFixed(1)} / {image.speed.postprocess.toFixed(1)} ms
          </small>
        </section>
      ))}
      {chosen !== null && <Webcam weightsId={chosen} conf={conf} iou={iou} words={w} />}
    </main>
  );
}

function Webcam({ weightsId, conf, iou, words }: { weightsId: number; conf: number; iou: number; words: (typeof WORDS)["en" | "zh"] }) {
  const [on, setOn] = useState(false);
  const [stats, setStats] = useState({ fps: 0, latency: 0 });
  const video = useRef<HTMLVideoElement>(null);
  const canvas = useRef<HTMLCanvasElement>(null);

  useEffect(() => {
    if (!on) return;
    let stopped = false;
    let media: MediaStream | null = null;
    const socket = new WebSocket(`${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/ws/inference/stream`);
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
      const packet = JSON.parse(String(event.data)) as { type: string; data: PredictResult & { latency_ms: number; status?: string } };
      if (packet.type === "status" && packet.data.status === "running") sendFrame();
      if (packet.type !== "detections" && packet.type !== "error") return;
      inFlight = false;
      if (packet.type === "detections") {
        const now = performance.now();
        answered = [...answered.filter((t) => now - t < 1000), now];
        setStats({ fps: answered.length, latency: packet.data.latency_ms });
        draw(packet.data);
      }
      requestAnimationFrame(sendFrame);
    };
    const draw = (result: PredictResult) => {
      const c = canvas.current;
      const v = video.current;
      if (!c || !v) return;
      c.width = v.videoWidth;
      c.height = v.videoHeight;
      const g = c.getContext("2d")!;
      g.drawImage(v, 0, 0);
      g.lineWidth = 2;
      g.font = "14px sans-serif";
      for (const d of result.images[0]?.detections ?? []) {
        g.strokeStyle = g.fillStyle = "#FF3838";
        g.strokeRect(d.box.x1, d.box.y1, d.box.x2 - d.box.x1, d.box.y2 - d.box.y1);
        g.fillText(`${d.name} ${d.confidence.toFixed(2)}`, d.box.x1 + 2, Math.max(14, d.box.y1 - 4));
      }
      const top = result.images[0]?.top_k?.[0];
      if (top) g.fillText(`${top.name} ${top.confidence.toFixed(2)}`, 8, 20);
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
      media?.getTracks().forEach((t) => t.stop());
    };
  }, [on, weightsId, conf, iou]);

  return (
    <section>
      <button data-testid="inference-webcam" onClick={() => setOn(!on)}>{on ? words.stopWebcam : words.webcam}</button>
      {on && (
        <p>
          {words.fps}: {stats.fps} · {words.latency}: {stats.latency.toFixed(0)} ms
        </p>
      )}
      <video ref={video} muted playsInline hidden />
      <canvas ref={canvas} style={{ maxWidth: "100%", display: on ? "block" : "none" }} />
    </section>
  );
}
