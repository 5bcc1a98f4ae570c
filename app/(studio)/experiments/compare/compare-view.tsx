"use client";

import { useQuery } from "@tanstack/react-query";
import Link from "next/link";
import { useT } from "@/components/i18n";
import { LineChart } from "@/components/line-chart";
import { errorText, useTRPC } from "@/components/trpc";
import { formatMetric } from "../format";

/** Two or more experiments: one chart per metric with a line per run, and their settings side by side. */
export function CompareView({ ids }: { ids: number[] }) {
  const { t, statusLabel } = useT();
  const trpc = useTRPC();
  const compare = useQuery({ ...trpc.experiments.compare.queryOptions({ ids }), enabled: ids.length >= 2 });
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
  const metricNames = [...new Set(runs.flatMap((r) => r.epochs.flatMap((e) => Object.keys(e.values))))].filter((k) => !["epoch_seconds", "images_per_sec", "learning_rate"].includes(k)).sort();
  const hyperKeys = [...new Set(runs.flatMap((r) => Object.keys(r.experiment.hyperparameters)))].sort();
  const bestKeys = [...new Set(runs.flatMap((r) => Object.keys(r.experiment.bestMetrics)))].filter((k) => metricNames.includes(k));
  return (
    <>
      <h1>{t("compare")}</h1>
      <div className="row wrap charts">
        {metricNames.map((metric) => (
          <LineChart
            key={metric}
            title={metric}
            series={runs.map((r) => ({ name: `${r.experiment.name} (#${r.experiment.id})`, points: r.epochs.filter((e) => metric in e.values).map((e) => ({ x: e.epoch, y: e.values[metric] })) }))}
          />
        ))}
      </div>
      <div className="panel">
        <table>
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
              {runs.map((r) => (
                <td key={r.experiment.id}>{r.experiment.model ?? r.experiment.architectureName}</td>
              ))}
            </tr>
            <tr>
              <td>{t("status")}</td>
              {runs.map((r) => (
                <td key={r.experiment.id}>{statusLabel(r.experiment.status)}</td>
              ))}
            </tr>
            {hyperKeys.map((k) => (
              <tr key={k}>
                <td>{k}</td>
                {runs.map((r) => (
                  <td key={r.experiment.id}>{String(r.experiment.hyperparameters[k] ?? "—")}</td>
                ))}
              </tr>
            ))}
            {bestKeys.map((k) => (
              <tr key={`best-${k}`}>
                <td>
                  <strong>{t("bestOf", { metric: k })}</strong>
                </td>
                {runs.map((r) => (
                  <td key={r.experiment.id}>{formatMetric(r.experiment.bestMetrics[k])}</td>
                ))}
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </>
  );
}
