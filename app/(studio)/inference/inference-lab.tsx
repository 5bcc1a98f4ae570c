"use client";

import { useQuery } from "@tanstack/react-query";
import { useEffect, useState } from "react";
import { useT } from "@/components/i18n";
import { useTRPC } from "@/components/trpc";
import type { PredictResult } from "@/server/inference/schemas";
import { ServerStream, Webcam } from "./live-views";

export function InferenceLab() {
  const { t, withDetail } = useT();
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
      <h1>{t("inferenceLab")}</h1>
      {entries.isSuccess && usable.length === 0 && <p data-testid="inference-no-weights">{t("inferNoWeights")}</p>}
      <div className="toolbar">
        <label>
          {t("weights")}{" "}
          <select data-testid="inference-weights" value={chosen ?? ""} onChange={(e) => setWeightsId(Number(e.target.value))}>
            {usable.map((e) => (
              <option key={e.id} value={e.id}>{`${e.name} (${t(e.task as "detect" | "classify")}, ${e.format})`}</option>
            ))}
          </select>
        </label>
        <label>
          {t("inferConfidence")} {conf.toFixed(2)}{" "}
          <input data-testid="inference-conf" type="range" min={0.01} max={1} step={0.01} value={conf} onChange={(e) => setConf(Number(e.target.value))} />
        </label>
        <label>
          {t("inferIou")} {iou.toFixed(2)} <input data-testid="inference-iou" type="range" min={0.05} max={1} step={0.05} value={iou} onChange={(e) => setIou(Number(e.target.value))} />
        </label>
        {result && (
          <button data-testid="inference-download" onClick={download}>
            {t("inferDownloadJson")}
          </button>
        )}
      </div>
      <label
        className="dropzone"
        data-testid="inference-dropzone"
        onDragOver={(e) => e.preventDefault()}
        onDrop={(e) => {
          e.preventDefault();
          setFiles([...e.dataTransfer.files].filter((f) => f.type.startsWith("image/")));
        }}
      >
        {t("inferChooseImages")}
        <input data-testid="inference-files" type="file" accept="image/*" multiple hidden onChange={(e) => setFiles([...(e.target.files ?? [])])} />
      </label>
      {error && <p role="alert">{withDetail(t("errorGeneric"), error)}</p>}
      {result && (
        <p>
          {t("inferProvider")}: {result.provider} · imgsz {result.imgsz.join("×")}
        </p>
      )}
      {result?.images.map((image, i) => (
        <section key={i} data-testid="inference-result">
          <h2>{files[i]?.name ?? t("inferImageN", { n: i + 1 })}</h2>
          {image.annotated_image ? <img src={image.annotated_image} alt={files[i]?.name ?? ""} style={{ maxWidth: "100%" }} /> : files[i] && <img src={URL.createObjectURL(files[i])} alt="" style={{ maxWidth: 480 }} />}
          {image.top_k?.map((c) => (
            <div key={c.class_id} className="bar-row" data-testid="inference-class-bar">
              <span style={{ display: "inline-block", width: 160 }}>{c.name}</span>
              <span style={{ display: "inline-block", width: `${Math.round(c.confidence * 300)}px`, background: "#4c8bf5", height: 12 }} /> {c.confidence.toFixed(3)}
            </div>
          ))}
          {image.detections && (
            <table data-testid="inference-table">
              <thead>
                <tr>
                  <th>{t("className")}</th>
                  <th>{t("inferConfidence")}</th>
                  <th>{t("inferBox")}</th>
                </tr>
              </thead>
              <tbody>
                {image.detections.length === 0 && (
                  <tr>
                    <td colSpan={3}>{t("inferNoDetections")}</td>
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
          <small title={t("speedPerImage")}>
            {image.width}×{image.height} · {image.speed.preprocess.toFixed(1)} / {image.speed.inference.toFixed(1)} / {image.speed.postprocess.toFixed(1)} ms
          </small>
        </section>
      ))}
      {chosen !== null && <Webcam weightsId={chosen} conf={conf} iou={iou} />}
      {chosen !== null && <ServerStream weightsId={chosen} conf={conf} iou={iou} />}
    </main>
  );
}
