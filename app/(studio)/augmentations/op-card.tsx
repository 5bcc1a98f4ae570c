"use client";

import type { PointerEvent as ReactPointerEvent } from "react";
import { useT } from "@/components/i18n";

export interface OpInfo {
  op: string;
  description: string;
  params: Record<string, unknown>;
}

export type PipelineOp = Record<string, unknown> & { op: string };
type Schema = { type?: string; minimum?: number; maximum?: number; exclusiveMinimum?: number; default?: unknown; description?: string; enum?: unknown[]; prefixItems?: Schema[]; anyOf?: Schema[] };

const label = (op: string, name: string) => `${op} ${name}`;

/** A number as a slider with its box when the schema bounds it, else a box. */
function NumberField({ op, name, schema, value, onChange }: { op: string; name: string; schema: Schema; value: number | undefined; onChange(v: number | undefined): void }) {
  const min = schema.minimum ?? schema.exclusiveMinimum;
  const max = schema.maximum;
  const step = schema.type === "integer" ? 1 : max !== undefined && min !== undefined && max - min <= 2 ? 0.01 : 0.1;
  const shown = value ?? (schema.default as number | undefined);
  return (
    <span className="row" style={{ gap: 6, flexWrap: "nowrap" }}>
      {min !== undefined && max !== undefined && max - min <= 1000 && (
        <input type="range" min={min} max={max} step={step} value={shown ?? min} onChange={(e) => onChange(Number(e.target.value))} aria-label={`${label(op, name)} slider`} />
      )}
      <input type="number" min={min} max={max} step={step} value={shown ?? ""} onChange={(e) => onChange(e.target.value === "" ? undefined : Number(e.target.value))} aria-label={label(op, name)} style={{ width: "6em" }} />
    </span>
  );
}

function ParamField({ op, name, schema, value, onChange }: { op: string; name: string; schema: Schema; value: unknown; onChange(v: unknown): void }) {
  if (schema.type === "number" || schema.type === "integer") return <NumberField op={op} name={name} schema={schema} value={value as number | undefined} onChange={onChange} />;
  if (schema.type === "boolean") return <input type="checkbox" checked={Boolean(value ?? schema.default)} onChange={(e) => onChange(e.target.checked)} aria-label={label(op, name)} />;
  if (Array.isArray(schema.enum)) {
    return (
      <select value={String(value ?? schema.default ?? "")} onChange={(e) => onChange(e.target.value)} aria-label={label(op, name)}>
        {schema.enum.map((o) => (
          <option key={String(o)} value={String(o)}>
            {String(o)}
          </option>
        ))}
      </select>
    );
  }
  if (schema.type === "array" && schema.prefixItems?.every((p) => p.type === "number" || p.type === "integer")) {
    const pair = (value ?? schema.default ?? []) as number[];
    return (
      <span className="row" style={{ gap: 4 }}>
        {schema.prefixItems.map((item, i) => (
          <NumberField key={i} op={op} name={`${name}[${i}]`} schema={item} value={pair[i]} onChange={(v) => onChange(schema.prefixItems!.map((_, j) => (j === i ? v : (pair[j] ?? (schema.default as number[] | undefined)?.[j]))))} />
        ))}
      </span>
    );
  }
  return <input value={value === undefined ? "" : JSON.stringify(value)} placeholder={JSON.stringify(schema.default ?? null)} onChange={(e) => { try { onChange(JSON.parse(e.target.value)); } catch { onChange(e.target.value); } }} aria-label={label(op, name)} />;
}

/** One op of the pipeline: its probability and parameters as the op library's schema describes them. */
export function OpCard({ index, op, info, error, dragging, onChange, onRemove, onMove, onDragStart }: {
  index: number;
  op: PipelineOp;
  info: OpInfo | undefined;
  error: string | null;
  dragging: boolean;
  onChange(op: PipelineOp): void;
  onRemove(): void;
  onMove(delta: number): void;
  onDragStart(event: ReactPointerEvent): void;
}) {
  const { t } = useT();
  const params = Object.entries(info?.params ?? {}) as [string, Schema][];
  return (
    <div className="panel" data-testid="op-card" data-op={op.op} style={{ marginBottom: 8, padding: 10, opacity: dragging ? 0.5 : 1, borderColor: error ? "var(--danger)" : undefined }}>
      <div className="row">
        <span role="button" aria-label={t("dragToReorder")} title={t("dragToReorder")} onPointerDown={onDragStart} style={{ cursor: "grab", touchAction: "none", userSelect: "none", padding: "0 4px" }} data-testid="op-handle">
          ⋮⋮
        </span>
        <strong>
          {index + 1}. {op.op}
        </strong>
        <span style={{ flex: 1 }} />
        <button type="button" aria-label={t("moveUp")} onClick={() => onMove(-1)}>
          ↑
        </button>
        <button type="button" aria-label={t("moveDown")} onClick={() => onMove(1)}>
          ↓
        </button>
        <button type="button" className="danger" onClick={onRemove}>
          {t("remove")}
        </button>
      </div>
      <p className="muted" style={{ margin: "4px 0 0", fontSize: 12 }}>
        {info?.description ?? t("unknownOp")}
      </p>
      <div style={{ display: "grid", gridTemplateColumns: "minmax(90px, auto) 1fr", gap: "6px 10px", alignItems: "center", marginTop: 6 }}>
        {params.map(([name, schema]) => (
          <label key={name} style={{ display: "contents" }} title={schema.description}>
            <span>{name === "p" ? t("probability") : name}</span>
            <ParamField
              op={op.op}
              name={name}
              schema={schema}
              value={op[name]}
              onChange={(v) => {
                const next: PipelineOp = { ...op };
                if (v === undefined) delete next[name];
                else next[name] = v;
                onChange(next);
              }}
            />
          </label>
        ))}
      </div>
      {error && (
        <p className="error" role="alert">
          {error}
        </p>
      )}
    </div>
  );
}
