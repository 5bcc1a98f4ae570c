"use client";

import { useT } from "@/components/i18n";
import type { GraphProblemView, NodeSummaryView } from "./context";
import styles from "./graph-editor.module.css";

export interface Inspection {
  summary: { nodes: NodeSummaryView[]; totalParams: number; totalTrainableParams: number; totalFlops: number; outputShapes: number[][]; inputShape: number[] } | null;
  ultralytics: { layers: number; parameters: number; gradients: number; gflops: number } | null;
  error: GraphProblemView | null;
}

const n = (v: number) => v.toLocaleString("en-US");

/** The graph's totals from the engine, the Ultralytics summary line, and the compiler's error. */
export function Totals({ inspection, imgsz, compact = false }: { inspection: Inspection | null; imgsz: number; compact?: boolean }) {
  const { t } = useT();
  if (!inspection) return <p className="muted">{t("analysing")}</p>;
  const { summary, ultralytics, error } = inspection;
  return (
    <div data-testid="graph-totals" style={{ marginTop: compact ? 12 : 0 }}>
      {!compact && <h3 style={{ margin: "4px 0" }}>{t("totals")}</h3>}
      {error && (
        <p className="error" role="alert" data-testid="graph-error">
          {error.message}
        </p>
      )}
      {summary && !error && (
        <div className={styles.totals}>
          <span>{t("parameters")}</span>
          <strong data-testid="total-params">{n(summary.totalTrainableParams)}</strong>
          <span>{t("storedWeights")}</span>
          <span>{n(summary.totalParams)}</span>
          <span>FLOPs</span>
          <span data-testid="total-flops">{n(summary.totalFlops)}</span>
          <span>{t("input")}</span>
          <span>[{summary.inputShape.join(", ")}]</span>
          <span>{t("outputs")}</span>
          <span>{summary.outputShapes.map((s) => `[${s.join(", ")}]`).join(" ")}</span>
        </div>
      )}
      {ultralytics && !compact && (
        <p className="muted" style={{ fontSize: 12 }} data-testid="ultralytics-line">
          {t("ultralyticsLine", { layers: n(ultralytics.layers), parameters: n(ultralytics.parameters), gradients: n(ultralytics.gradients), gflops: ultralytics.gflops.toFixed(1), imgsz })}
        </p>
      )}
    </div>
  );
}
