"use client";

import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import Link from "next/link";
import { useState } from "react";
import { useT } from "@/components/i18n";
import { errorText, useTRPC } from "@/components/trpc";
import { formatDuration } from "../experiments/format";

const gib = (bytes: number | null) => (bytes === null ? "—" : `${(bytes / 2 ** 30).toFixed(1)} GiB`);
const percent = (value: number | null) => (value === null ? "—" : `${Math.round(value)} %`);

/** A minute of one device's utilisation (0–100 %), drawn small. */
function Sparkline({ points, label }: { points: { t: number; v: number | null }[]; label: string }) {
  const values = points.filter((p): p is { t: number; v: number } => p.v !== null);
  if (values.length < 2) return <span className="muted">—</span>;
  const [t0, t1] = [values[0].t, values[values.length - 1].t];
  const x = (t: number) => (t1 === t0 ? 0 : ((t - t0) / (t1 - t0)) * 118 + 1);
  const y = (v: number) => 23 - (Math.min(100, Math.max(0, v)) / 100) * 22;
  return (
    <svg width="120" height="24" viewBox="0 0 120 24" role="img" aria-label={label} data-testid="sparkline" data-points={values.length}>
      <rect x="0" y="0" width="120" height="24" fill="#f4f6fa" />
      <polyline fill="none" stroke="#2563eb" strokeWidth="1.5" points={values.map((p) => `${x(p.t).toFixed(1)},${y(p.v).toFixed(1)}`).join(" ")} />
    </svg>
  );
}

/** Every training host × device, the slots and the runs in them, and the queue (studio administrators manage it). */
export function FleetView() {
  const { t, statusLabel } = useT();
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const fleet = useQuery({ ...trpc.system.fleet.queryOptions(), refetchInterval: 2000 });
  const refresh = { onSuccess: () => void queryClient.invalidateQueries({ queryKey: trpc.system.fleet.queryKey() }) };
  const cancel = useMutation(trpc.system.cancelQueued.mutationOptions(refresh));
  const reprioritise = useMutation(trpc.system.reprioritise.mutationOptions(refresh));
  const [priorities, setPriorities] = useState<Record<number, number>>({});
  const view = fleet.data;
  const actionError = cancel.error ?? reprioritise.error;

  return (
    <>
      <h1>{t("fleet")}</h1>
      {fleet.error && <p className="error">{errorText(fleet.error)}</p>}
      {view?.hosts.length === 0 && <p className="empty">{t("noHosts")}</p>}
      {view?.hosts.map((host) => (
        <section key={host.host} className="panel" data-testid="fleet-host" data-host={host.host} data-down={host.down}>
          <h2 className="row">
            {host.host}
            <span className="badge" style={{ background: host.down ? "#fbe7e5" : "#e3f5ea", color: host.down ? "var(--danger)" : "var(--ok)" }} data-testid="host-state">
              {statusLabel(host.down ? "down" : "up")}
            </span>
            <span className="muted" data-testid="slots">{t("slotsInUse", { used: host.slotsInUse, total: host.slots })}</span>
            <span className="muted">{host.sampleAgeSeconds === null ? t("notSampled") : t("sampledAgo", { seconds: Math.round(host.sampleAgeSeconds) })}</span>
          </h2>
          {host.gpuUnavailable && <p className="muted" data-testid="gpu-unavailable">{host.gpuUnavailable}</p>}
          <table>
            <thead>
              <tr>
                <th>{t("device")}</th>
                <th>{t("name")}</th>
                <th>{t("utilisation")}</th>
                <th>{t("memory")}</th>
                <th>{t("temperature")}</th>
                <th>{t("lastMinute")}</th>
              </tr>
            </thead>
            <tbody>
              {host.devices.map((d) => (
                <tr key={d.device} data-testid="fleet-device" data-device={d.device}>
                  <td>{d.device}</td>
                  <td>{d.name}</td>
                  <td>{percent(d.utilPercent)}</td>
                  <td>
                    {gib(d.memoryUsedBytes)} / {gib(d.memoryTotalBytes)}
                  </td>
                  <td>{d.temperatureC === null ? "—" : `${d.temperatureC} °C`}</td>
                  <td>
                    <Sparkline points={d.sparkline} label={`${host.host} ${d.device}`} />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
          <h3>{t("runsOnHost")}</h3>
          {host.runs.length === 0 ? (
            <p className="muted">{t("noRunsOnHost")}</p>
          ) : (
            <table>
              <tbody>
                {host.runs.map((run) => (
                  <tr key={run.pid} data-testid="fleet-run">
                    <td>{run.experimentId !== null ? <Link href={`/experiments/${run.experimentId}`}>{run.name}</Link> : <span className="muted">{t("anotherTeamsRun")}</span>}</td>
                    <td>{run.teamName && !run.ownTeam ? run.teamName : ""}</td>
                    <td>PID {run.pid}</td>
                    <td>{run.device}</td>
                    <td>{Math.round(run.progress)} %</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </section>
      ))}
      <h2>{t("queue")}</h2>
      <div className="panel">
        {actionError && <p className="error">{errorText(actionError)}</p>}
        {view?.queue.length === 0 ? (
          <p className="muted">{t("queueEmpty")}</p>
        ) : (
          <table data-testid="fleet-queue">
            <thead>
              <tr>
                <th>#</th>
                <th>{t("run")}</th>
                <th>{t("device")}</th>
                <th>{t("waiting")}</th>
                <th>{t("priority")}</th>
                {view?.canManage && <th />}
              </tr>
            </thead>
            <tbody>
              {view?.queue.map((q) => (
                <tr key={`${q.position}-${q.experimentId}`} data-testid="queue-entry" data-experiment={q.experimentId ?? ""}>
                  <td>{q.position}</td>
                  <td>
                    {q.experimentId === null ? <span className="muted">{t("anotherTeamsRun")}</span> : q.ownTeam ? <Link href={`/experiments/${q.experimentId}`}>{q.name}</Link> : `${q.name} (${q.teamName})`}
                  </td>
                  <td>{q.device}</td>
                  <td>{formatDuration(q.waitingSeconds)}</td>
                  <td>{q.priority}</td>
                  {view.canManage && q.experimentId !== null && (
                    <td className="row">
                      <input
                        type="number"
                        aria-label={`priority of ${q.name}`}
                        min={-100}
                        max={100}
                        style={{ width: 64 }}
                        value={priorities[q.experimentId] ?? q.priority}
                        onChange={(e) => setPriorities({ ...priorities, [q.experimentId!]: Number(e.target.value) })}
                      />
                      <button type="button" onClick={() => reprioritise.mutate({ experimentId: q.experimentId!, priority: priorities[q.experimentId!] ?? q.priority })}>
                        {t("setPriority")}
                      </button>
                      <button type="button" className="danger" onClick={() => cancel.mutate({ experimentId: q.experimentId! })}>
                        {t("cancel")}
                      </button>
                    </td>
                  )}
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </div>
    </>
  );
}
