"use client";

import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import type { FormEvent } from "react";
import { useT } from "@/components/i18n";
import { errorText, useTRPC } from "@/components/trpc";

type MetricChange = { source: number; exported: number; change: number };
interface ParityReport {
  precision: string;
  runtime: string;
  referenceRuntime: string;
  fixedBatch: { images: number; maxDifference: number; tolerance: number | null };
  validation: { split: string; images: number; metric: string; drop: number; maxDrop: number; metrics: Record<string, MetricChange>; perClass: ({ name: string } & MetricChange)[]; agreement: Record<string, number | null> } | null;
  passed: boolean;
  reasons: string[];
  exportSeconds: number;
}

const fixed = (value: number | null | undefined, digits = 4) => (value === null || value === undefined ? "—" : Number.isInteger(value) ? String(value) : value.toFixed(digits));
const numberField = (data: FormData, name: string) => (String(data.get(name) ?? "") === "" ? undefined : Number(data.get(name)));

/** Validate a weights entry on a split, and the validations it has had (polled while one runs). */
export function ValidateWeights({ id, canEdit, onChanged }: { id: number; canEdit: boolean; onChanged: () => void }) {
  const { t } = useT();
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const list = useQuery({
    ...trpc.weights.validations.queryOptions({ weightsId: id, limit: 10 }),
    refetchInterval: (query) => (query.state.data?.some((v) => v.status === "queued" || v.status === "running") ? 2000 : false),
  });
  const validate = useMutation(trpc.weights.validate.mutationOptions({ onSuccess: () => (queryClient.invalidateQueries({ queryKey: trpc.weights.validations.queryKey() }), onChanged()) }));

  function submit(e: FormEvent<HTMLFormElement>) {
    e.preventDefault();
    const data = new FormData(e.currentTarget);
    validate.mutate({ weightsId: id, split: data.get("split") === "test" ? "test" : "val", conf: numberField(data, "conf"), iou: numberField(data, "iou"), imgsz: numberField(data, "imgsz"), batch: numberField(data, "batch") });
  }

  return (
    <div className="panel" data-testid="weights-validate">
      <h3 style={{ marginTop: 0 }}>{t("validate")}</h3>
      {canEdit && (
        <form className="row" onSubmit={submit}>
          <label>
            {t("split")}{" "}
            <select name="split" aria-label="validation split" defaultValue="val">
              <option value="val">val</option>
              <option value="test">test</option>
            </select>
          </label>
          <label>
            conf <input name="conf" type="number" step="any" min={0} max={1} placeholder="0.001" aria-label="validation conf" style={{ width: "5em" }} />
          </label>
          <label>
            iou <input name="iou" type="number" step="any" min={0} max={1} placeholder="0.7" aria-label="validation iou" style={{ width: "5em" }} />
          </label>
          <label>
            imgsz <input name="imgsz" type="number" min={8} max={2048} aria-label="validation imgsz" style={{ width: "5em" }} />
          </label>
          <label>
            batch <input name="batch" type="number" min={1} max={256} placeholder="16" aria-label="validation batch" style={{ width: "5em" }} />
          </label>
          <button type="submit" className="primary" disabled={validate.isPending}>
            {t("validate")}
          </button>
        </form>
      )}
      {validate.error && <p className="error">{errorText(validate.error)}</p>}
      {list.data && list.data.length > 0 && (
        <table>
          <thead>
            <tr>
              <th>#</th>
              <th>{t("status")}</th>
              <th>{t("split")}</th>
              <th>{t("metrics")}</th>
              <th>{t("speedPerImage")}</th>
            </tr>
          </thead>
          <tbody>
            {list.data.map((v) => (
              <tr key={v.id} data-testid="validation-row">
                <td>{v.status === "completed" ? <a href={`/validations/${v.id}`}>{v.id}</a> : v.id}</td>
                <td>
                  <span className="badge">{v.status}</span> {v.purpose === "parity" && <span className="muted">{t("parity")}</span>}
                  {v.error && <div className="error">{v.error}</div>}
                </td>
                <td>
                  {v.split} ({v.images})
                </td>
                <td>
                  {Object.entries(v.metrics ?? {})
                    .map(([name, value]) => `${name} ${fixed(value)}`)
                    .join(" · ")}
                </td>
                <td>{v.speed ? `${fixed(v.speed.preprocess, 1)} / ${fixed(v.speed.inference, 1)} / ${fixed(v.speed.postprocess, 1)} ms` : "—"}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </div>
  );
}

/** Export to ONNX or TF.js as a child entry; its parity report shows on the child. */
export function ExportWeights({ id, onExported }: { id: number; onExported: (childId: number) => void }) {
  const { t } = useT();
  const trpc = useTRPC();
  const exporter = useMutation(trpc.weights.export.mutationOptions({ onSuccess: (child) => onExported(child.id) }));

  function submit(e: FormEvent<HTMLFormElement>) {
    e.preventDefault();
    const data = new FormData(e.currentTarget);
    exporter.mutate({
      weightsId: id,
      format: String(data.get("format")),
      opset: numberField(data, "opset"),
      half: data.get("half") === "on",
      int8: data.get("int8") === "on",
      dynamic: data.get("dynamic") === "on",
      batch: numberField(data, "batch"),
      imgsz: numberField(data, "imgsz"),
    });
  }

  return (
    <div className="panel" data-testid="weights-export">
      <h3 style={{ marginTop: 0 }}>{t("exportWeights")}</h3>
      <form className="row" onSubmit={submit}>
        <label>
          {t("format")}{" "}
          <select name="format" aria-label="export format" defaultValue="onnx">
            <option value="onnx">ONNX</option>
            <option value="tfjs">TF.js</option>
          </select>
        </label>
        <label>
          opset <input name="opset" type="number" min={12} max={17} placeholder="17" aria-label="export opset" style={{ width: "4em" }} />
        </label>
        <label>
          <input type="checkbox" name="half" aria-label="export half" /> half (fp16)
        </label>
        <label>
          <input type="checkbox" name="int8" aria-label="export int8" /> int8
        </label>
        <label>
          <input type="checkbox" name="dynamic" aria-label="export dynamic" /> dynamic
        </label>
        <label>
          batch <input name="batch" type="number" min={1} max={256} placeholder="1" aria-label="export batch" style={{ width: "4em" }} />
        </label>
        <label>
          imgsz <input name="imgsz" type="number" min={8} max={2048} aria-label="export imgsz" style={{ width: "5em" }} />
        </label>
        <button type="submit" className="primary" disabled={exporter.isPending}>
          {t("exportWeights")}
        </button>
      </form>
      {exporter.error && <p className="error">{errorText(exporter.error)}</p>}
    </div>
  );
}

/** How an exported file compares with its source: the report the export job stored on the child. */
export function ParityReportView({ report }: { report: ParityReport }) {
  const { t } = useT();
  const v = report.validation;
  return (
    <div className="panel" data-testid="parity-report">
      <h3 style={{ marginTop: 0 }}>
        {t("parityReport")} <span className="badge">{report.passed ? t("parityPassed") : t("parityFailed")}</span>
      </h3>
      <p>
        {report.precision} · {report.runtime} vs {report.referenceRuntime} · {t("largestDifference")} {report.fixedBatch.maxDifference.toExponential(2)}
        {report.fixedBatch.tolerance !== null && ` (≤ ${report.fixedBatch.tolerance})`} · {report.exportSeconds.toFixed(1)} s
      </p>
      {report.reasons.length > 0 && <p className="error">{report.reasons.join("; ")}</p>}
      {v && (
        <table>
          <thead>
            <tr>
              <th>{t("metrics")}</th>
              <th>{t("source")}</th>
              <th>{t("exported")}</th>
              <th>Δ</th>
            </tr>
          </thead>
          <tbody>
            {[...Object.entries(v.metrics).map(([name, m]) => ({ name, ...m })), ...v.perClass].map((m) => (
              <tr key={m.name}>
                <td>{m.name}</td>
                <td>{fixed(m.source)}</td>
                <td>{fixed(m.exported)}</td>
                <td>{fixed(m.change)}</td>
              </tr>
            ))}
            {Object.entries(v.agreement).map(([name, value]) => (
              <tr key={name}>
                <td colSpan={3}>{name}</td>
                <td>{fixed(value)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </div>
  );
}
