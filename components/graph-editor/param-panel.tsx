"use client";

import { useEffect, useState } from "react";
import { useT } from "@/components/i18n";
import type { FieldInfo, NodeTypeInfo } from "./context";
import styles from "./graph-editor.module.css";

type Schema = Record<string, unknown>;
type Kind = { kind: "enum"; options: string[] } | { kind: "bool" } | { kind: "number"; integer: boolean; min?: number; max?: number } | { kind: "text" };

/** How a field is edited, read from its JSON schema (enums → select, booleans → checkbox, numbers → number input, unions → text). */
function kindOf(schema: Schema): Kind {
  if (Array.isArray(schema.enum)) return { kind: "enum", options: schema.enum.map(String) };
  if (schema.const !== undefined) return { kind: "enum", options: [String(schema.const)] };
  const options = (schema.anyOf as Schema[] | undefined) ?? [];
  if (schema.type === "boolean" || (options.length > 0 && options.some((o) => o.type === "boolean") && options.every((o) => o.type === "boolean" || Array.isArray(o.enum)))) return { kind: "bool" };
  if (schema.type === "integer" || schema.type === "number") {
    const min = typeof schema.minimum === "number" ? schema.minimum : typeof schema.exclusiveMinimum === "number" ? schema.exclusiveMinimum + (schema.type === "integer" ? 1 : 0) : undefined;
    const max = typeof schema.maximum === "number" && schema.maximum < 1e15 ? schema.maximum : undefined;
    return { kind: "number", integer: schema.type === "integer", min, max };
  }
  return { kind: "text" };
}

/** Text fields take a number, "3, 3" for a pair, a word, or JSON. */
function parseText(raw: string): unknown {
  const text = raw.trim();
  if (text === "") return undefined;
  if (/^-?\d+(\.\d+)?$/.test(text)) return Number(text);
  if (/^-?\d+(\.\d+)?(\s*,\s*-?\d+(\.\d+)?)+$/.test(text)) return text.split(",").map((v) => Number(v.trim()));
  if (text === "true" || text === "false") return text === "true";
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

const show = (v: unknown) => (v === undefined ? "" : Array.isArray(v) ? v.join(", ") : typeof v === "object" && v !== null ? JSON.stringify(v) : String(v));

function Field({ field, value, serverError, onChange }: { field: FieldInfo; value: unknown; serverError?: string; onChange(v: unknown): void }) {
  const { t } = useT();
  const kind = kindOf(field.schema);
  const fallback = field.schema.default;
  const [text, setText] = useState(show(value));
  useEffect(() => setText(show(value)), [value]);
  let local: string | null = null;
  if (kind.kind === "number" && value !== undefined) {
    const n = Number(value);
    if (!Number.isFinite(n)) local = t("notANumber");
    else if (kind.integer && !Number.isInteger(n)) local = t("mustBeInteger");
    else if (kind.min !== undefined && n < kind.min) local = t("atLeast", { min: kind.min });
    else if (kind.max !== undefined && n > kind.max) local = t("atMost", { max: kind.max });
  }
  if (field.required && value === undefined) local = t("required");
  const id = `field-${field.name}`;
  return (
    <div className={styles.field}>
      <label htmlFor={id}>
        {field.name}
        {field.required ? " *" : ""} {fallback !== undefined && <span className="muted">({t("defaultValue")} {show(fallback)})</span>}
      </label>
      {kind.kind === "enum" ? (
        <select id={id} value={value === undefined ? "" : String(value)} onChange={(e) => onChange(e.target.value === "" ? undefined : e.target.value)}>
          <option value="">{fallback !== undefined ? `— ${show(fallback)} —` : "—"}</option>
          {kind.options.map((o) => (
            <option key={o} value={o}>
              {o}
            </option>
          ))}
        </select>
      ) : kind.kind === "bool" ? (
        <input id={id} type="checkbox" checked={Boolean(value ?? fallback)} onChange={(e) => onChange(e.target.checked)} style={{ width: "auto" }} />
      ) : (
        <input
          id={id}
          type={kind.kind === "number" ? "number" : "text"}
          min={kind.kind === "number" ? kind.min : undefined}
          max={kind.kind === "number" ? kind.max : undefined}
          step={kind.kind === "number" && !kind.integer ? "any" : undefined}
          placeholder={show(fallback)}
          value={text}
          onChange={(e) => {
            setText(e.target.value);
            onChange(kind.kind === "number" ? (e.target.value === "" ? undefined : Number(e.target.value)) : parseText(e.target.value));
          }}
        />
      )}
      {(local ?? serverError) && <span className={styles.fieldError}>{local ?? serverError}</span>}
    </div>
  );
}

/** The selected node's settings, a form generated from its type's schema; the compiler's message sits under the field it names. */
export function ParamPanel({ nodeId, info, params, error, onChange }: { nodeId: string; info: NodeTypeInfo | undefined; params: Record<string, unknown>; error: { field: string | null; message: string } | null; onChange(params: Record<string, unknown>): void }) {
  const { t } = useT();
  if (!info) return <p className="error">{t("unknownLayerType")}</p>;
  const known = new Set(info.fields.map((f) => f.name));
  const extra = Object.keys(params).filter((k) => !known.has(k));
  return (
    <div data-testid="param-panel">
      <h3 style={{ margin: "4px 0" }}>
        {info.type} <span className="muted">{nodeId}</span>
      </h3>
      <p className="muted" style={{ fontSize: 12 }}>
        {info.description}
      </p>
      {info.fields.length === 0 && <p className="muted">{t("noSettings")}</p>}
      {info.fields.map((field) => (
        <Field
          key={field.name}
          field={field}
          value={params[field.name]}
          serverError={error && error.field === field.name ? error.message : undefined}
          onChange={(v) => {
            const next = { ...params };
            if (v === undefined) delete next[field.name];
            else next[field.name] = v;
            onChange(next);
          }}
        />
      ))}
      {extra.length > 0 && (
        <p className="muted" style={{ fontSize: 12 }}>
          {t("otherKeys")}: {extra.map((k) => `${k}=${show(params[k])}`).join(", ")}
        </p>
      )}
    </div>
  );
}
