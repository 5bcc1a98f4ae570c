"use client";

import Link from "next/link";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import type { FormEvent } from "react";
import { useT } from "@/components/i18n";
import { errorText, useTRPC } from "@/components/trpc";
import { fileSize, tagList } from "./format";
import { ExportWeights, ParityReportView, ValidateWeights } from "./weights-jobs";

const shape = (dims: (number | string)[] | null) => (dims ? `[${dims.join(", ")}]` : "—");

export function WeightsDetail({ id, canEdit, onChanged, onDeleted, onOpen }: { id: number; canEdit: boolean; onChanged: () => void; onDeleted: () => void; onOpen: (id: number) => void }) {
  const { t } = useT();
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  // An export being made polls until its job is done.
  const entry = useQuery({ ...trpc.weights.byId.queryOptions({ id }), refetchInterval: (query) => (query.state.data?.status === "processing" ? 2000 : false) });
  const refresh = () => {
    queryClient.invalidateQueries({ queryKey: trpc.weights.byId.queryKey({ id }) });
    onChanged();
  };
  const update = useMutation(trpc.weights.update.mutationOptions({ onSuccess: refresh }));
  const remove = useMutation(trpc.weights.delete.mutationOptions({ onSuccess: onDeleted }));

  const w = entry.data;
  if (!w) return entry.error ? <p className="error">{errorText(entry.error)}</p> : null;

  function submitEdit(e: FormEvent<HTMLFormElement>) {
    e.preventDefault();
    const data = new FormData(e.currentTarget);
    update.mutate({ id, name: String(data.get("name")), description: String(data.get("description")), tags: tagList(String(data.get("tags"))) });
  }

  const error = update.error ?? remove.error;
  const parity = (w.details as { parity?: Parameters<typeof ParityReportView>[0]["report"] } | null)?.parity;
  const metrics = w.metrics ? Object.entries(w.metrics.values).filter(([name]) => !name.startsWith("train_")) : [];
  return (
    <section data-testid="weights-detail">
      <h2>
        {w.name} <span className="badge">{w.format}</span> {w.task && <span className="badge">{w.task}</span>}{" "}
        {w.status === "ready" && (
          <a className="button" href={`/api/weights/${w.id}/download`} download>
            {t("download")}
          </a>
        )}
      </h2>
      {error && (
        <p className="error" role="alert">
          {errorText(error)}
        </p>
      )}
      {canEdit && (
        <form className="panel row" onSubmit={submitEdit}>
          <input name="name" defaultValue={w.name} aria-label="rename weights" required />
          <input name="tags" defaultValue={w.tags.join(", ")} placeholder={t("tagsHint")} aria-label="edit tags" />
          <input name="description" defaultValue={w.description} placeholder={t("description")} aria-label="weights description" style={{ flex: 1 }} />
          <button type="submit" disabled={update.isPending}>
            {t("save")}
          </button>
          <button type="button" className="danger" onClick={() => confirm(`Delete ${w.name}?`) && remove.mutate({ id })} disabled={remove.isPending}>
            {t("delete")}
          </button>
        </form>
      )}
      {!canEdit && w.description && <p className="muted">{w.description}</p>}
      <div className="panel">
        <p>
          {t("size")}: {fileSize(w.bytes)} · {t("inputShape")}: <span data-testid="weights-input-shape">{shape(w.inputShape)}</span>
          {w.imgsz && ` · imgsz ${w.imgsz[0]}×${w.imgsz[1]}`} · sha256 <code>{w.sha256.slice(0, 16)}…</code>
        </p>
        <p data-testid="weights-classes">
          {t("classes")} ({w.classNames.length}): {w.classNames.length ? w.classNames.join(", ") : "—"}
        </p>
      </div>
      <div className="panel">
        <h3 style={{ marginTop: 0 }}>{t("metrics")}</h3>
        {metrics.length === 0 ? (
          <p className="muted">{t("notValidated")}</p>
        ) : (
          <>
            <p className="muted">
              {w.metrics!.source === "training" ? "validation during training" : "validation"} · {w.metrics!.split ?? ""} · {new Date(w.metrics!.validatedAt).toLocaleString()}
            </p>
            <table>
              <tbody>
                {metrics.map(([name, value]) => (
                  <tr key={name}>
                    <td>{name}</td>
                    <td>{Number.isInteger(value) ? value : value.toFixed(4)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </>
        )}
      </div>
      {parity && <ParityReportView report={parity} />}
      {w.status === "ready" && <ValidateWeights id={id} canEdit={canEdit} onChanged={refresh} />}
      {w.status === "ready" && canEdit && <ExportWeights id={id} onExported={onOpen} />}
      {w.status === "processing" && <p className="muted">{t("exporting")}</p>}
      {w.status === "failed" && w.error && <p className="error">{w.error}</p>}
      <div className="panel">
        <h3 style={{ marginTop: 0 }}>{t("lineage")}</h3>
        <ul>
          <li>
            {t("projects")}: {w.projectName}
          </li>
          {w.sourceExperimentId && (
            <li>
              {t("sourceRun")}: <Link href={`/experiments/${w.sourceExperimentId}`}>{w.sourceExperimentName ?? `#${w.sourceExperimentId}`}</Link>
              {w.sourceEpoch !== null && ` · ${t("epoch")} ${w.sourceEpoch}`}
            </li>
          )}
          {w.datasetId && (
            <li>
              {t("dataset")}: {w.datasetName ?? `#${w.datasetId}`} {w.datasetSplit && `(${w.datasetSplit})`}
            </li>
          )}
          {(w.architectureName ?? w.model) && (
            <li>
              {t("model")}: {w.architectureName ?? w.model}
            </li>
          )}
          {w.parentId && (
            <li>
              {t("parentWeights")}: {w.parentName ?? `#${w.parentId}`}
            </li>
          )}
        </ul>
      </div>
      <details className="panel">
        <summary>{t("fileDetails")}</summary>
        <pre style={{ whiteSpace: "pre-wrap", maxHeight: 400, overflow: "auto" }}>{JSON.stringify(w.details, null, 2)}</pre>
      </details>
    </section>
  );
}
