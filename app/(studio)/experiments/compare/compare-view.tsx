"use client";

import { useQuery } from "@tanstack/react-query";
import Link from "next/link";
import { useState } from "react";
import { useT } from "@/components/i18n";
import { LineChart } from "@/components/line-chart";
import { errorText, useTRPC } from "@/components/trpc";
import { formatMetric } from "../format";
import { compareCsv, differingKeys, groupRuns, settingText, type CompareRun } from "./compare-data";

const NOT_CURVES = ["epoch_seconds", "images_per_sec", "learning_rate"];
const RECALL = Array.from({ length: 101 }, (_, i) => i / 100);

/** Two or more experiments: their PR curves and metric curves overlaid, their settings side by side (or only where they differ), grouped by a setting, as CSV. */
export function CompareView({ ids }: { ids: number[] }) {
  const { t, statusLabel } = useT();
  const trpc = useTRPC();
  const [differencesOnly, setDifferencesOnly] = useState(false);
  const [groupBy, setGroupBy] = useState("");
  const compare = useQuery({ ...trpc.experiments.compare.queryOptions({ ids }), enabled: ids.length >= 2 });
  const curves = useQuery({ ...trpc.analysis.prCurves.queryOptions({ ids, split: "val" }), enabled: ids.length >= 2 });
  if (ids.length < 2)
    return (
      <p className="empty">
        {t("compareHintBefore")}
        <Link href="/experiments">{t("compareHintLink")}</Link>
        {t("compareHintAfter")}
      </p>
    );
  if (compare.error) return <p className="error" role="alert">{errorText(compare.error)}</p>;
  const runs = compare.data ?? [];
  const rows: CompareRun[] = runs.map(({ experiment: e }) => ({ id: e.id, name: e.name, model: e.model ?? e.architectureName, status: e.status, hyperparameters: e.hyperparameters, bestMetrics: e.bestMetrics }));
  const runLabel = (r: { name: string; id: number }) => `${r.name} (#${r.id})`;
  const metricNames = [...new Set(runs.flatMap((r) => r.epochs.flatMap((e) => Object.keys(e.values))))].filter((k) => !NOT_CURVES.includes(k)).sort();
  const allKeys = [...new Set(rows.flatMap((r) => Object.keys(r.hyperparameters)))].sort();
  const keys = differencesOnly ? differingKeys(rows, allKeys) : allKeys;
  const bestKeys = [...new Set(rows.flatMap((r) => Object.keys(r.bestMetrics)))].sort();
  const withCurve = (curves.data ?? []).filter((c) => c.precision !== null);
  const withoutCurve = (curves.data ?? []).filter((c) => c.precision === null);
  const download = () => {
    const url = URL.createObjectURL(new Blob([compareCsv(rows, allKeys, bestKeys)], { type: "text/csv" }));
    const a = document.createElement("a");
    a.href = url;
    a.download = `compare-${ids.join("-")}.csv`;
    a.click();
    URL.revokeObjectURL(url);
  };
  return (
    <>
      <h1 className="row wrap" style={{ justifyContent: "space-between" }}>
        <span>{t("compare")}</span>
        <span className="row wrap" style={{ gap: 8, fontSize: 14 }}>
          {ids.length === 2 && (
            <Link className="button" href={`/experiments/diff?a=${ids[0]}&b=${ids[1]}`} data-testid="compare-diff">
              {t("openDiff")}
            </Link>
          )}
          <button type="button" onClick={download} disabled={rows.length === 0} data-testid="export-csv">
            {t("exportCsv")}
          </button>
        </span>
      </h1>
      <div className="row wrap charts">
        <div style={{ flex: "1 1 420px" }}>
          <LineChart
            title="pr-curves"
            caption={t("prCurves")}
            xLabel={t("recallAxis")}
            yLabel={t("precisionAxis")}
            xRange={[0, 1]}
            yRange={[0, 1]}
            series={withCurve.map((c) => ({ name: runLabel({ name: c.name ?? "", id: c.experimentId }), points: RECALL.map((x, i) => ({ x, y: c.precision![i] })) }))}
          />
          {withoutCurve.map((c) => (
            <p key={c.experimentId} className="muted" style={{ fontSize: 12 }}>
              #{c.experimentId}: {c.reason}
            </p>
          ))}
        </div>
        {metricNames.map((metric) => (
          <LineChart
            key={metric}
            title={metric}
            series={runs.map((r) => ({ name: runLabel(r.experiment), points: r.epochs.filter((e) => metric in e.values).map((e) => ({ x: e.epoch, y: e.values[metric] })) }))}
            logY={metric.endsWith("loss")}
          />
        ))}
      </div>
      <div className="panel">
        <p className="row wrap" style={{ gap: 16 }}>
          <label>
            <input type="checkbox" checked={differencesOnly} onChange={(e) => setDifferencesOnly(e.target.checked)} aria-label="differences only" /> {t("differencesOnly")}
          </label>
          <label>
            {t("groupBy")}{" "}
            <select aria-label="group by" value={groupBy} onChange={(e) => setGroupBy(e.target.value)}>
              <option value="">{t("noGrouping")}</option>
              {differingKeys(rows, allKeys).map((k) => (
                <option key={k} value={k}>
                  {k}
                </option>
              ))}
            </select>
          </label>
        </p>
        {groupBy && <GroupTable runs={rows} groupBy={groupBy} metricNames={bestKeys} />}
        <table data-testid="compare-table">
          <thead>
            <tr>
              <th />
              {runs.map((r) => (
                <th key={r.experiment.id}>
                  <Link href={`/experiments/${r.experiment.id}`}>{r.experiment.name}</Link>
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            <tr>
              <td>{t("model")}</td>
              {rows.map((r) => (
                <td key={r.id}>{r.model}</td>
              ))}
            </tr>
            <tr>
              <td>{t("status")}</td>
              {rows.map((r) => (
                <td key={r.id}>{statusLabel(r.status)}</td>
              ))}
            </tr>
            {keys.map((k) => (
              <tr key={k} data-testid="hyperparameter-row">
                <td>{k}</td>
                {rows.map((r) => (
                  <td key={r.id}>{settingText(r.hyperparameters[k])}</td>
                ))}
              </tr>
            ))}
            {bestKeys.map((k) => (
              <tr key={`best-${k}`}>
                <td>
                  <strong>{t("bestOf", { metric: k })}</strong>
                </td>
                {rows.map((r) => (
                  <td key={r.id}>{formatMetric(r.bestMetrics[k])}</td>
                ))}
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </>
  );
}

/** One row per value of the setting: how many runs, and each best metric's mean ± std across them. */
function GroupTable({ runs, groupBy, metricNames }: { runs: CompareRun[]; groupBy: string; metricNames: string[] }) {
  const { t } = useT();
  const groups = groupRuns(runs, groupBy, metricNames);
  return (
    <table data-testid="group-table" style={{ marginBottom: 16 }}>
      <thead>
        <tr>
          <th>{groupBy}</th>
          <th>{t("groupRuns")}</th>
          {metricNames.map((m) => (
            <th key={m}>
              {m} <span className="muted">({t("meanStd")})</span>
            </th>
          ))}
        </tr>
      </thead>
      <tbody>
        {groups.map((g) => (
          <tr key={g.value}>
            <td>
              <code>{g.value}</code>
            </td>
            <td>{g.runs.map((id) => `#${id}`).join(" ")}</td>
            {metricNames.map((m) => {
              const s = g.metrics[m];
              return <td key={m}>{s ? `${formatMetric(s.mean)}${s.std !== null ? ` ± ${formatMetric(s.std)}` : ""}` : "—"}</td>;
            })}
          </tr>
        ))}
      </tbody>
    </table>
  );
}
