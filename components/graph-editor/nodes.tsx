"use client";

import { Handle, Position, type NodeProps } from "@xyflow/react";
import { useT } from "@/components/i18n";
import { findType, useEditor } from "./context";
import { formatCount, type InnerNode, type LayerNode } from "./model";
import styles from "./graph-editor.module.css";

const shape = (s: number[] | undefined) => (s ? `[${s.join("×")}]` : "…");

/** A graph node: type and id, live output shape, parameters and FLOPs, the compiler's error on it; blocks unfold. */
export function LayerNodeCard({ id, data, selected }: NodeProps<LayerNode>) {
  const { t } = useT();
  const { catalog, summaries, error, expanded, toggleExpanded } = useEditor();
  const info = findType(catalog, data.type);
  const summary = summaries.get(id);
  const failed = error?.nodeId === id;
  const unfolds = (summary?.inner?.length ?? 0) > 0;
  const classes = [styles.node, info?.kind === "block" ? styles.block : "", selected ? styles.selected : "", failed ? styles.failed : "", !info ? styles.unknown : ""];
  return (
    <div className={classes.join(" ")} data-testid={`node-${id}`} data-type={data.type} data-error={failed ? error.message : undefined}>
      {(info?.inputs.max ?? 1) > 0 && <Handle type="target" position={Position.Top} className={styles.handle} data-testid={`in-${id}`} />}
      <div className={styles.nodeTitle}>
        <strong>{data.type}</strong>
        <span className={styles.nodeId}>{id}</span>
        {unfolds && (
          <button
            type="button"
            className={`nodrag ${styles.unfold}`}
            aria-label={expanded.has(id) ? t("collapseBlock") : t("expandBlock")}
            title={expanded.has(id) ? t("collapseBlock") : t("expandBlock")}
            onClick={() => toggleExpanded(id)}
          >
            {expanded.has(id) ? "▾" : "▸"}
          </button>
        )}
      </div>
      <div className={styles.nodeStats} data-testid={`stats-${id}`}>
        <span data-testid={`shape-${id}`}>{shape(summary?.outputShape)}</span>
        <span title={t("parameters")} data-testid={`params-${id}`}>
          {summary ? formatCount(summary.trainableParams) : "…"} p
        </span>
        <span title="FLOPs">{summary ? formatCount(summary.flops) : "…"}F</span>
      </div>
      {failed && (
        <div className={styles.nodeError} role="alert">
          {error.message}
        </div>
      )}
      <Handle type="source" position={Position.Bottom} className={styles.handle} data-testid={`out-${id}`} />
    </div>
  );
}

/** A layer inside an unfolded block: what the engine runs, shown, not edited. */
export function InnerNodeCard({ data }: NodeProps<InnerNode>) {
  return (
    <div className={`${styles.node} ${styles.inner}`}>
      <Handle type="target" position={Position.Top} isConnectable={false} className={styles.handle} />
      <div className={styles.nodeTitle}>
        <strong>{data.type}</strong>
        <span className={styles.nodeId}>{data.label}</span>
      </div>
      <div className={styles.nodeStats}>
        <span>{shape(data.shape)}</span>
        <span>{formatCount(data.params)} p</span>
        <span>{formatCount(data.flops)}F</span>
      </div>
      <Handle type="source" position={Position.Bottom} isConnectable={false} className={styles.handle} />
    </div>
  );
}

export function BlockFrame({ data }: NodeProps) {
  return <div className={styles.frame}>{String((data as { label: string }).label)}</div>;
}
