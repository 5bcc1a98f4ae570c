"use client";

import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useRouter } from "next/navigation";
import { useEffect, useRef, useState } from "react";
import { useT } from "@/components/i18n";
import { LineChart } from "@/components/line-chart";
import { errorText, useTRPC } from "@/components/trpc";
import { useTopic } from "@/components/use-topic";
import type { StudioEvent } from "@/server/events/types";
import { lossSeries, metricSeries, type Point } from "../charts";
import { formatDuration, formatMetric } from "../format";
import { ExperimentAnalysis } from "./experiment-analysis";
import { RunSystemCharts } from "./system-charts";

type LogLine = { seq: number; level: string; stage: string; message: string; at: Date | string };

export function ExperimentDetail({ id, canEdit }: { id: number; canEdit: boolean }) {
  const { t, statusLabel } = useT();
  const trpc = useTRPC();
  const router = useRouter();
  const queryClient = useQueryClient();
  const [live, setLive] = useState<{ points: Point[]; logs: LogLine[] }>({ points: [], logs: [] });

  const experimentKey = trpc.experiments.byId.queryKey({ id });
  const plotsKey = trpc.experiments.plots.queryKey({ id });
  const refetchAll = () => {
    void queryClient.invalidateQueries({ queryKey: experimentKey });
    void queryClient.invalidateQueries({ queryKey: trpc.experiments.metrics.queryKey({ id }) });
    void queryClient.invalidateQueries({ queryKey: trpc.experiments.logs.queryKey() });
    void queryClient.invalidateQueries({ queryKey: plotsKey });
  };
  const onEvent = (event: StudioEvent) => {
    if (event.type === "experiment.status") {
      void queryClient.invalidateQueries({ queryKey: experimentKey });
      void queryClient.invalidateQueries({ queryKey: plotsKey });
    }
    if (event.type === "experiment.metrics") setLive((l) => ({ ...l, points: [...l.points, { epoch: event.epoch, step: event.step, values: event.values }] }));
    // Step 0 is an epoch's end: the run has just redrawn its plots.
    if (event.type === "experiment.metrics" && event.step === 0) void queryClient.invalidateQueries({ queryKey: plotsKey });
    if (event.type === "experiment.log") setLive((l) => ({ ...l, logs: [...l.logs, { seq: event.seq!, level: event.level, stage: event.stage, message: event.message, at: event.at }] }));
  };
  const { connected } = useTopic(`experiment:${id}`, onEvent, refetchAll);
  const poll = connected ? false : 2000;

  const experiment = useQuery({ ...trpc.experiments.byId.queryOptions({ id }), refetchInterval: poll });
  const metrics = useQuery({ ...trpc.experiments.metrics.queryOptions({ id }), refetchInterval: poll });
  const logs = useQuery({ ...trpc.experiments.logs.queryOptions({ id, since: 0, limit: 5000 }), refetchInterval: poll });
  const plots = useQuery({ ...trpc.experiments.plots.queryOptions({ id }), refetchInterval: connected ? false : 10_000 });
  // Fresh table reads replace what the stream added meanwhile.
  useEffect(() => setLive((l) => ({ ...l, points: [] })), [metrics.data]);
  useEffect(() => setLive((l) => ({ ...l, logs: [] })), [logs.data]);

  const mutationOptions = { onSuccess: () => void queryClient.invalidateQueries({ queryKey: experimentKey }) };
  const stop = useMutation(trpc.experiments.stop.mutationOptions(mutationOptions));
  const pause = useMutation(trpc.experiments.pause.mutationOptions(mutationOptions));
  const resume = useMutation(trpc.experiments.resume.mutationOptions(mutationOptions));
  const start = useMutation(trpc.experiments.start.mutationOptions(mutationOptions));
  const clone = useMutation(trpc.experiments.clone.mutationOptions({ onSuccess: (e) => router.push(`/experiments/${e.id}`) }));
  const remove = useMutation(trpc.experiments.delete.mutationOptions({ onSuccess: () => router.push("/experiments") }));
  const saveToLibrary = useMutation(trpc.weights.saveFromExperiment.mutationOptions());
  const [resumeWith, setResumeWith] = useState<{ epochs?: number; lr0?: number; patience?: number }>({});

  const allPoints = mergePoints(metrics.data ?? [], live.points);
  const allLogs = mergeLogs(logs.data ?? [], live.logs);
  const consoleRef = useRef<HTMLPreElement>(null);
  useEffect(() => {
    const el = consoleRef.current;
    if (el) el.scrollTop = el.scrollHeight;
  }, [allLogs.length]);

  const e = experiment.data;
  const error = experiment.error ?? stop.error ?? pause.error ?? resume.error ?? start.error ?? clone.error ?? remove.error ?? saveToLibrary.error;
  if (!e) return error ? <p className="error" role="alert">{errorText(error)}</p> : <p className="muted">…</p>;
  const resumable = ["paused", "stopped", "failed", "completed"].includes(e.status);
  return (
    <>
      <h1>
        {e.name} <span className={`badge status-${e.status}`} data-testid="experiment-status">{statusLabel(e.status)}</span>{" "}
        <span className="muted" data-testid="live-state">{connected ? t("liveOn") : t("liveOff")}</span>
      </h1>
      {error && <p className="error" role="alert">{errorText(error)}</p>}
      {e.error && <p className="error">{e.error}</p>}
      <div className="panel row wrap">
        <span>
          {t("progress")}: <strong data-testid="experiment-progress">{e.progress.toFixed(1)}%</strong> ({e.currentEpoch}/{e.totalEpochs})
        </span>
        <span>
          {t("eta")}: {formatDuration(e.etaSeconds)}
        </span>
        {e.queuePosition !== null && <span>{t("queuePosition", { position: e.queuePosition })}</span>}
        <span>
          {t("model")}: {e.model ?? e.architectureName}
        </span>
        <span>
          {t("dataset")}: {e.datasetName ?? "—"}
        </span>
        <span>
          {t("device")}: {e.deviceRequested} → {e.backend ?? "—"}
        </span>
        <span>{t("attempt", { attempt: e.attempt })}</span>
        {e.runDir && <span className="muted">{e.runDir}</span>}
      </div>
      {canEdit && (
        <div className="panel row wrap">
          {e.status === "created" && (
            <button className="primary" data-testid="start-experiment" onClick={() => start.mutate({ id })}>
              {t("start")}
            </button>
          )}
          {["running", "queued"].includes(e.status) && <button data-testid="pause-experiment" onClick={() => pause.mutate({ id })}>{t("pause")}</button>}
          {["running", "pausing", "queued", "paused", "created"].includes(e.status) && (
            <button className="danger" data-testid="stop-experiment" onClick={() => stop.mutate({ id })}>
              {t("stop")}
            </button>
          )}
          {resumable && (
            <>
              {(["epochs", "lr0", "patience"] as const).map((key) => (
                <label key={key}>
                  {key}
                  <input
                    type="number"
                    step={key === "lr0" ? "any" : 1}
                    aria-label={`resume ${key}`}
                    placeholder={key === "epochs" ? String(e.totalEpochs) : String(e.hyperparameters[key] ?? "")}
                    value={resumeWith[key] ?? ""}
                    onChange={(ev) => setResumeWith((r) => ({ ...r, [key]: ev.target.value === "" ? undefined : Number(ev.target.value) }))}
                    style={{ width: "6em" }}
                  />
                </label>
              ))}
              <button className="primary" data-testid="resume-experiment" onClick={() => resume.mutate({ id, ...resumeWith })}>
                {t("resume")}
              </button>
            </>
          )}
          {e.bestEpoch !== null && (
            <button data-testid="save-to-library" disabled={saveToLibrary.isPending} onClick={() => saveToLibrary.mutate({ experimentId: id, which: "best" })}>
              {t("saveToLibrary")}
            </button>
          )}
          {saveToLibrary.data && <a href="/weights">{t("savedToLibrary")}: {saveToLibrary.data.name}</a>}
          <button onClick={() => clone.mutate({ id })}>{t("clone")}</button>
          <button className="danger" disabled={["running", "pausing", "stopping"].includes(e.status)} onClick={() => window.confirm(t("confirmDelete", { name: e.name })) && remove.mutate({ id })}>
            {t("delete")}
          </button>
        </div>
      )}
      <div className="row wrap charts">
        <LineChart title="loss" caption={t("lossChart")} series={lossSeries(allPoints, t("stepLoss"))} />
        <LineChart title="metrics" caption={t("metricsChart")} series={metricSeries(allPoints)} />
      </div>
      <PlotsPanel experimentId={id} plots={plots.data ?? []} />
      <ExperimentAnalysis experimentId={id} ended={["completed", "stopped"].includes(e.status)} finishedAt={e.finishedAt} />
      {e.startedAt !== null && <RunSystemCharts experimentId={id} live={["running", "pausing", "stopping"].includes(e.status)} />}
      <div className="panel">
        <h2>{t("bestMetrics")} {e.bestEpoch !== null && <span className="muted">{t("bestEpoch", { epoch: e.bestEpoch })}</span>}</h2>
        <table>
          <tbody>
            {Object.entries(e.bestMetrics).map(([k, v]) => (
              <tr key={k}>
                <td>{k}</td>
                <td>{formatMetric(v)}</td>
                <td className="muted">{formatMetric(e.latestMetrics[k])}</td>
              </tr>
            ))}
          </tbody>
        </table>
        <h2>{t("hyperparameters")}</h2>
        <table className="key-values">
          <tbody>
            {Object.entries(e.hyperparameters).map(([key, value]) => (
              <tr key={key}>
                <th scope="row">{key}</th>
                <td>
                  <code>{typeof value === "string" ? value : JSON.stringify(value)}</code>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <div className="panel">
        <h2>{t("logs")}</h2>
        <pre ref={consoleRef} className="log-console" data-testid="log-console" style={{ maxHeight: 360, overflow: "auto" }}>
          {allLogs.map((l) => (
            <div key={l.seq} className={`log-${l.level}`}>
              [{l.stage}] {l.message}
            </div>
          ))}
        </pre>
      </div>
    </>
  );
}

/** The run's plots/ PNGs as thumbnails; one opens full size over the page. */
function PlotsPanel({ experimentId, plots }: { experimentId: number; plots: { name: string; mtime: number }[] }) {
  const { t } = useT();
  const [open, setOpen] = useState<string | null>(null);
  if (plots.length === 0) return null;
  // The mtime makes each redraw a new URL, so the browser never shows a stale copy.
  const url = (plot: { name: string; mtime: number }) => `/api/experiments/${experimentId}/plots/${plot.name}?v=${plot.mtime}`;
  const opened = plots.find((p) => p.name === open);
  return (
    <div className="panel" data-testid="plots-panel">
      <h2>{t("plots")}</h2>
      <div style={{ display: "flex", flexWrap: "wrap", gap: 8 }}>
        {plots.map((plot) => (
          <button key={plot.name} type="button" onClick={() => setOpen(plot.name)} title={plot.name} style={{ padding: 4 }} data-testid="plot-thumbnail">
            <img src={url(plot)} alt={plot.name} loading="lazy" style={{ height: 140, maxWidth: 320, objectFit: "contain", display: "block", background: "#fff" }} />
            <div className="muted" style={{ fontSize: 11, lineHeight: "14px" }}>
              {plot.name}
            </div>
          </button>
        ))}
      </div>
      {opened && (
        <div role="dialog" aria-label={opened.name} onClick={() => setOpen(null)} style={{ position: "fixed", inset: 0, background: "rgba(0,0,0,.6)", display: "grid", placeItems: "center", zIndex: 10 }}>
          <div className="panel" onClick={(e) => e.stopPropagation()} style={{ maxWidth: "95vw", maxHeight: "95vh", overflow: "auto" }}>
            <img src={url(opened)} alt={opened.name} style={{ maxWidth: "100%", display: "block", background: "#fff" }} />
            <p className="row wrap">
              <a href={url(opened)} target="_blank" rel="noreferrer">
                {opened.name}
              </a>
              <button type="button" onClick={() => setOpen(null)}>
                {t("cancel")}
              </button>
            </p>
          </div>
        </div>
      )}
    </div>
  );
}

/** Table rows plus streamed points, one per (epoch, step): the stream's newer value wins. */
function mergePoints(rows: Point[], streamed: Point[]): Point[] {
  const byKey = new Map<string, Point>();
  for (const p of [...rows, ...streamed]) byKey.set(`${p.epoch}:${p.step}`, p);
  return [...byKey.values()].sort((a, b) => a.epoch - b.epoch || a.step - b.step);
}

function mergeLogs(rows: LogLine[], streamed: LogLine[]): LogLine[] {
  const last = rows.at(-1)?.seq ?? 0;
  return [...rows, ...streamed.filter((l) => l.seq > last)];
}
