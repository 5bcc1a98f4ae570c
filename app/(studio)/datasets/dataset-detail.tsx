"use client";

import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";
import { useT } from "@/components/i18n";
import { errorText, useTRPC } from "@/components/trpc";
import { LabelledImage } from "./box-overlay";

const PAGE_SIZE = 24;

const fmt = (s: { min: number; median: number; max: number } | null) => (s ? `${s.min} / ${s.median} / ${s.max}` : "—");

export function DatasetDetail({ id, canEdit, onDeleted }: { id: number; canEdit: boolean; onDeleted: () => void }) {
  const { t } = useT();
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const dataset = useQuery(trpc.datasets.byId.queryOptions({ id }));
  const [page, setPage] = useState(1);
  const [split, setSplit] = useState<"" | "train" | "val" | "test">("");
  const [classId, setClassId] = useState<number | "">("");
  const [open, setOpen] = useState<number | null>(null);
  const preview = useQuery(
    trpc.datasets.preview.queryOptions({ id, page, limit: PAGE_SIZE, split: split || undefined, classId: classId === "" ? undefined : classId }),
  );
  const refresh = () => {
    queryClient.invalidateQueries({ queryKey: trpc.datasets.byId.queryKey({ id }) });
    queryClient.invalidateQueries({ queryKey: trpc.datasets.preview.queryKey() });
    queryClient.invalidateQueries({ queryKey: trpc.datasets.list.queryKey() });
  };
  const update = useMutation(trpc.datasets.update.mutationOptions({ onSuccess: refresh }));
  const resplit = useMutation(trpc.datasets.resplit.mutationOptions({ onSuccess: refresh }));
  const remove = useMutation(trpc.datasets.delete.mutationOptions({ onSuccess: onDeleted }));

  const d = dataset.data;
  if (!d) return dataset.error ? <p className="error">{errorText(dataset.error)}</p> : null;
  const s = d.stats;
  const pages = preview.data ? Math.max(1, Math.ceil(preview.data.total / PAGE_SIZE)) : 1;
  const opened = preview.data?.items.find((i) => i.id === open);

  function submitEdit(e: FormEvent<HTMLFormElement>) {
    e.preventDefault();
    const data = new FormData(e.currentTarget);
    update.mutate({ id, name: String(data.get("name")), description: String(data.get("description")) });
  }

  function submitSplit(e: FormEvent<HTMLFormElement>) {
    e.preventDefault();
    const data = new FormData(e.currentTarget);
    if (data.get("source") === "folders") return resplit.mutate({ id, source: "folders" });
    const ratios = { train: Number(data.get("train")), val: Number(data.get("val")), test: Number(data.get("test")) };
    resplit.mutate({ id, source: "ratios", ratios, seed: Number(data.get("seed")) });
  }

  const error = update.error ?? resplit.error ?? remove.error ?? preview.error;
  return (
    <section data-testid="dataset-detail">
      <h2>
        {d.name} <span className="badge">{d.format}</span> <span className="badge">{t(d.task)}</span>
      </h2>
      {error && <p className="error" role="alert">{errorText(error)}</p>}
      {canEdit && (
        <form className="panel row" onSubmit={submitEdit}>
          <input name="name" defaultValue={d.name} aria-label="rename dataset" required />
          <input name="description" defaultValue={d.description} placeholder={t("description")} aria-label="dataset description" style={{ flex: 1 }} />
          <button type="submit">{t("save")}</button>
          <button
            type="button"
            className="danger"
            onClick={() => confirm(t("confirmDeleteDataset", { name: d.name })) && remove.mutate({ id })}
            disabled={remove.isPending}
          >
            {t("delete")}
          </button>
        </form>
      )}
      {s && (
        <div className="panel" data-testid="dataset-stats">
          <h2 style={{ marginTop: 0 }}>{t("statistics")}</h2>
          <p>
            <strong data-testid="stat-images">{s.images}</strong> {t("imagesUnit")} · {t("train")} {s.perSplit.train} · {t("val")} {s.perSplit.val} · {t("test")} {s.perSplit.test} ·{" "}
            {(s.bytes / 1024 / 1024).toFixed(1)} MB
          </p>
          <p className="muted">{t("formatEvidence", { list: s.evidence.join(", ") })}</p>
          <table>
            <thead>
              <tr>
                <th>{t("className")}</th>
                <th>{t("images")}</th>
                <th>{t("instances")}</th>
              </tr>
            </thead>
            <tbody>
              {s.classes.map((c) => (
                <tr key={c.name} data-testid="class-row">
                  <td>{c.name}</td>
                  <td>{c.images}</td>
                  <td>{c.instances}</td>
                </tr>
              ))}
            </tbody>
          </table>
          <p>
            {t("widthStats", { value: fmt(s.width) })} · {t("heightStats", { value: fmt(s.height) })} · {t("aspectStats", { value: fmt(s.aspect) })}
          </p>
          {d.task === "detect" && (
            <p>
              {t("emptyAnnotations", { rate: (s.emptyRate * 100).toFixed(1), count: s.emptyImages })} · {t("tinyBoxes", { count: s.tinyBoxes })} ·{" "}
              {t("unusableLabelsCount", { count: s.outOfRangeBoxes.length })}
            </p>
          )}
          <Listing title={t("corruptFiles")} items={s.corrupt.map((c) => `${c.path}: ${c.reason}`)} />
          <Listing title={t("duplicateImages")} items={s.duplicates.map((g) => g.paths.join(" = "))} />
          <Listing title={t("unusableLabels")} items={s.outOfRangeBoxes.map((b) => `${b.path}${b.line ? `:${b.line}` : ""}: ${b.reason}`)} />
          <Listing title={t("skippedFiles")} items={s.skipped} />
        </div>
      )}
      {d.splits && (
        <form className="panel row" onSubmit={submitSplit} aria-label={t("splits")}>
          <strong>{t("splits")}</strong>
          <span data-testid="split-counts">
            {t("train")} {d.splits.train} · {t("val")} {d.splits.val} · {t("test")} {d.splits.test} ({d.splits.source === "folders" ? t("ownFolders") : t("ratiosSeed", { seed: d.splits.seed ?? 0 })})
          </span>
          {canEdit && (
            <>
              <label>
                {t("splitSource")}{" "}
                <select name="source" aria-label="split source" defaultValue="ratios">
                  <option value="ratios">{t("splitByRatios")}</option>
                  <option value="folders">{t("splitByFolders")}</option>
                </select>
              </label>
              {(
                [
                  ["train", d.splits.ratios?.train ?? 0.8],
                  ["val", d.splits.ratios?.val ?? 0.2],
                  ["test", d.splits.ratios?.test ?? 0],
                ] as const
              ).map(([part, value]) => (
                <label key={part}>
                  {t(part)}{" "}
                  <input name={part} type="number" step="0.05" min="0" max="1" defaultValue={value} aria-label={`${part} ratio`} style={{ width: 70 }} />
                </label>
              ))}
              <label>
                {t("seed")} <input name="seed" type="number" min="0" defaultValue={d.splits.seed ?? 0} aria-label="seed" style={{ width: 70 }} />
              </label>
              <button type="submit" disabled={resplit.isPending}>
                {t("resplit")}
              </button>
            </>
          )}
        </form>
      )}
      <div className="panel">
        <div className="row">
          <strong>{t("preview")}</strong>
          <select value={split} onChange={(e) => (setSplit(e.target.value as typeof split), setPage(1))} aria-label="filter split">
            <option value="">{t("allSplits")}</option>
            <option value="train">{t("train")}</option>
            <option value="val">{t("val")}</option>
            <option value="test">{t("test")}</option>
          </select>
          <select value={classId} onChange={(e) => (setClassId(e.target.value === "" ? "" : Number(e.target.value)), setPage(1))} aria-label="filter class">
            <option value="">{t("allClasses")}</option>
            {d.classes.map((c, i) => (
              <option key={c} value={i}>
                {c}
              </option>
            ))}
          </select>
          <button type="button" disabled={page <= 1} onClick={() => setPage(page - 1)}>
            ‹
          </button>
          <span className="muted">
            {page} / {pages} ({preview.data?.total ?? 0})
          </span>
          <button type="button" disabled={page >= pages} onClick={() => setPage(page + 1)}>
            ›
          </button>
        </div>
        <div style={{ display: "flex", flexWrap: "wrap", gap: 8, marginTop: 10 }}>
          {preview.data?.items.map((item) => (
            <button key={item.id} type="button" onClick={() => setOpen(item.id)} title={item.path} style={{ padding: 4 }} data-testid="thumbnail">
              <LabelledImage src={`/api/datasets/${id}/images/${item.id}?thumb=1`} boxes={item.boxes} classes={d.classes} alt={item.path} size={120} />
              <div className="muted" style={{ fontSize: 11, lineHeight: "14px" }}>
                {item.label !== null ? d.classes[item.label] : t("boxesCount", { count: item.boxes?.length ?? 0 })} · {t(item.split)}
              </div>
            </button>
          ))}
        </div>
      </div>
      {opened && (
        <div role="dialog" aria-label={opened.path} onClick={() => setOpen(null)} style={{ position: "fixed", inset: 0, background: "rgba(0,0,0,.6)", display: "grid", placeItems: "center", zIndex: 10 }}>
          <div className="panel" onClick={(e) => e.stopPropagation()}>
            <LabelledImage src={`/api/datasets/${id}/images/${opened.id}`} boxes={opened.boxes} classes={d.classes} alt={opened.path} />
            <p>
              {opened.path} · {opened.width}×{opened.height} · {t(opened.split)} ·{" "}
              {opened.label !== null ? d.classes[opened.label] : (opened.boxes ?? []).map((b) => d.classes[b.cls]).join(", ") || t("noBoxes")}
            </p>
            <button type="button" onClick={() => setOpen(null)}>
              {t("cancel")}
            </button>
          </div>
        </div>
      )}
    </section>
  );
}

function Listing({ title, items }: { title: string; items: string[] }) {
  if (items.length === 0) return null;
  return (
    <details>
      <summary>
        {title} ({items.length})
      </summary>
      <ul>
        {items.slice(0, 200).map((item) => (
          <li key={item} className="muted">
            {item}
          </li>
        ))}
      </ul>
    </details>
  );
}
