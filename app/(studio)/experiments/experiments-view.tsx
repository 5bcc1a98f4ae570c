"use client";

import { useQuery, useQueryClient } from "@tanstack/react-query";
import Link from "next/link";
import { useState } from "react";
import { useT } from "@/components/i18n";
import { errorText, useTRPC } from "@/components/trpc";
import { useTeamEvents } from "@/components/use-topic";
import { formatMetric, headlineMetric } from "./format";

const STATUSES = ["created", "queued", "running", "pausing", "paused", "stopping", "stopped", "completed", "failed"] as const;

export function ExperimentsView({ canEdit }: { canEdit: boolean }) {
  const { t, statusLabel } = useT();
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const [status, setStatus] = useState<(typeof STATUSES)[number] | "">("");
  const [search, setSearch] = useState("");
  const [sortByMetric, setSortByMetric] = useState("");
  const [selected, setSelected] = useState<number[]>([]);
  const refetchList = () => void queryClient.invalidateQueries({ queryKey: trpc.experiments.list.queryKey() });
  // Status changes arrive as team events; without the socket the page polls.
  const { connected } = useTeamEvents((event) => event.type === "experiment.status" && refetchList(), refetchList);
  const list = useQuery({
    ...trpc.experiments.list.queryOptions({ status: status || undefined, search: search || undefined, sortByMetric: sortByMetric || undefined, limit: 200 }),
    refetchInterval: connected ? false : 3000,
  });
  const toggle = (id: number) => setSelected((s) => (s.includes(id) ? s.filter((x) => x !== id) : [...s, id]));

  return (
    <>
      <h1>{t("experiments")}</h1>
      <div className="panel row">
        {canEdit && (
          <Link className="button primary" href="/experiments/new">
            {t("newExperiment")}
          </Link>
        )}
        <select aria-label="status filter" value={status} onChange={(e) => setStatus(e.target.value as typeof status)}>
          <option value="">{t("statusAll")}</option>
          {STATUSES.map((s) => (
            <option key={s} value={s}>
              {statusLabel(s)}
            </option>
          ))}
        </select>
        <input aria-label="search" placeholder={t("search")} value={search} onChange={(e) => setSearch(e.target.value)} />
        <select aria-label="sort by metric" value={sortByMetric} onChange={(e) => setSortByMetric(e.target.value)}>
          <option value="">{t("newestFirst")}</option>
          <option value="val_acc">{t("bestOf", { metric: "val_acc" })}</option>
          <option value="macro_f1">{t("bestOf", { metric: "macro_f1" })}</option>
          <option value="mAP50_95">{t("bestOf", { metric: "mAP50-95" })}</option>
          <option value="mAP50">{t("bestOf", { metric: "mAP50" })}</option>
        </select>
        {selected.length >= 2 && (
          <Link className="button" href={`/experiments/compare?ids=${selected.join(",")}`}>
            {t("compare")} ({selected.length})
          </Link>
        )}
      </div>
      {list.error && <p className="error" role="alert">{errorText(list.error)}</p>}
      <div className="panel">
        {list.data && list.data.length === 0 && <p className="empty">{t("noExperiments")}</p>}
        <table>
          <thead>
            <tr>
              <th />
              <th>{t("name")}</th>
              <th>{t("status")}</th>
              <th>{t("progress")}</th>
              <th>{t("model")}</th>
              <th>{t("dataset")}</th>
              <th>{t("bestMetrics")}</th>
              <th>{t("device")}</th>
            </tr>
          </thead>
          <tbody>
            {list.data?.map((e) => (
              <tr key={e.id} data-testid="experiment-row">
                <td>
                  <input type="checkbox" aria-label={`select ${e.name}`} checked={selected.includes(e.id)} onChange={() => toggle(e.id)} />
                </td>
                <td>
                  <Link href={`/experiments/${e.id}`}>{e.name}</Link>
                </td>
                <td>
                  <span className={`badge status-${e.status}`}>{statusLabel(e.status)}</span>
                  {e.queuePosition !== null && <span className="muted"> #{e.queuePosition}</span>}
                  {e.error && <div className="error">{e.error}</div>}
                </td>
                <td>
                  {e.progress.toFixed(0)}% ({e.currentEpoch}/{e.totalEpochs})
                </td>
                <td>{e.model ?? e.architectureName ?? "—"}</td>
                <td>{e.datasetName ?? "—"}</td>
                <td>
                  {headlineMetric(e.task)} {formatMetric(e.bestMetrics[sortByMetric || headlineMetric(e.task)])}
                </td>
                <td>{e.backend ?? e.deviceRequested}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </>
  );
}
