"use client";

import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useEffect, useState } from "react";
import { useT } from "@/components/i18n";
import { errorText, useTRPC } from "@/components/trpc";
import { LabelledImage } from "../datasets/box-overlay";

/** Edits pipelines as JSON (the stored form); the op list helps to add ops, the server names each mistake. */
export function AugmentationsView({ canEdit }: { canEdit: boolean }) {
  const { t } = useT();
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const projects = useQuery(trpc.projects.list.queryOptions());
  const list = useQuery(trpc.augmentations.list.queryOptions({}));
  const ops = useQuery(trpc.augmentations.ops.queryOptions());
  const datasets = useQuery(trpc.datasets.list.queryOptions({}));
  const [editingId, setEditingId] = useState<number | null>(null);
  const [name, setName] = useState("");
  const [description, setDescription] = useState("");
  const [json, setJson] = useState("[]");
  const [datasetId, setDatasetId] = useState<number | null>(null);
  const [seed, setSeed] = useState(0);
  const [request, setRequest] = useState<{ datasetId: number; pipeline: unknown; seed: number } | null>(null);
  const invalidate = () => queryClient.invalidateQueries({ queryKey: trpc.augmentations.list.queryKey() });
  const create = useMutation(trpc.augmentations.create.mutationOptions({ onSuccess: (row) => (invalidate(), setEditingId(row.id)) }));
  const update = useMutation(trpc.augmentations.update.mutationOptions({ onSuccess: invalidate }));
  const remove = useMutation(trpc.augmentations.delete.mutationOptions({ onSuccess: () => (invalidate(), startNew()) }));
  const preview = useQuery({ ...trpc.augmentations.preview.queryOptions(request ?? { datasetId: 1, pipeline: [], seed: 0 }), enabled: request !== null });
  const ready = datasets.data?.filter((d) => d.status === "ready") ?? [];

  useEffect(() => {
    if (datasetId === null && ready.length) setDatasetId(ready[0].id);
  }, [ready, datasetId]);

  function startNew() {
    setEditingId(null);
    setName("");
    setDescription("");
    setJson("[]");
  }

  function parsed(): unknown {
    try {
      return JSON.parse(json);
    } catch {
      return json;
    }
  }

  function addOp(op: string) {
    const current = parsed();
    setJson(JSON.stringify([...(Array.isArray(current) ? current : []), { op }], null, 2));
  }

  const projectId = projects.data?.find((p) => p.name === "default")?.id ?? projects.data?.[0]?.id;
  function save() {
    if (editingId) update.mutate({ id: editingId, name, description, pipeline: parsed() });
    else if (projectId) create.mutate({ projectId, name, description, pipeline: parsed() });
  }

  const error = create.error ?? update.error ?? remove.error ?? list.error;
  return (
    <>
      <h1>{t("augmentations")}</h1>
      <div className="row" style={{ alignItems: "flex-start" }}>
        <div className="panel" style={{ width: 240 }}>
          <strong>{t("pipelines")}</strong>
          <ul style={{ paddingLeft: 16 }}>
            {list.data?.map((a) => (
              <li key={a.id}>
                <a
                  href="#"
                  data-testid="pipeline-item"
                  onClick={(e) => {
                    e.preventDefault();
                    setEditingId(a.id);
                    setName(a.name);
                    setDescription(a.description);
                    setJson(JSON.stringify(a.pipeline, null, 2));
                  }}
                >
                  {a.name}
                </a>
              </li>
            ))}
          </ul>
          {canEdit && (
            <button type="button" onClick={startNew}>
              + {t("create")}
            </button>
          )}
        </div>
        <div className="panel" style={{ flex: 1, minWidth: 360 }}>
          <div className="row">
            <input value={name} onChange={(e) => setName(e.target.value)} placeholder={t("name")} aria-label="pipeline name" />
            <input value={description} onChange={(e) => setDescription(e.target.value)} placeholder={t("description")} aria-label="pipeline description" style={{ flex: 1 }} />
          </div>
          <div className="row" style={{ marginTop: 8 }}>
            <select aria-label="add op" value="" onChange={(e) => e.target.value && addOp(e.target.value)}>
              <option value="">{t("addOp")}…</option>
              {ops.data?.map((o) => (
                <option key={o.op} value={o.op} title={o.description}>
                  {o.op}
                </option>
              ))}
            </select>
            <span className="muted">{t("opsCount", { count: ops.data?.length ?? 0 })}</span>
          </div>
          <textarea value={json} onChange={(e) => setJson(e.target.value)} rows={12} style={{ width: "100%", fontFamily: "monospace", marginTop: 8 }} aria-label="pipeline json" />
          {error && <p className="error" role="alert">{errorText(error)}</p>}
          {canEdit && (
            <div className="row">
              <button className="primary" type="button" onClick={save} disabled={!name || (!editingId && !projectId) || create.isPending || update.isPending}>
                {t("save")}
              </button>
              {editingId && (
                <button className="danger" type="button" onClick={() => remove.mutate({ id: editingId })}>
                  {t("delete")}
                </button>
              )}
            </div>
          )}
        </div>
      </div>
      <div className="panel">
        <div className="row">
          <strong>{t("preview")}</strong>
          <select value={datasetId ?? ""} onChange={(e) => setDatasetId(Number(e.target.value))} aria-label="preview dataset">
            {ready.map((d) => (
              <option key={d.id} value={d.id}>
                {d.name}
              </option>
            ))}
          </select>
          <input type="number" min={0} value={seed} onChange={(e) => setSeed(Number(e.target.value))} aria-label="preview seed" style={{ width: 80 }} />
          <button type="button" disabled={!datasetId} onClick={() => datasetId && setRequest({ datasetId, pipeline: parsed(), seed })}>
            {t("renderPreview")}
          </button>
        </div>
        {preview.error && <p className="error" role="alert">{errorText(preview.error)}</p>}
        {preview.data?.samples.map((s) => (
          <div key={s.itemId} className="row" style={{ marginTop: 10 }} data-testid="preview-sample">
            <figure style={{ margin: 0 }}>
              <LabelledImage src={s.original.image} boxes={s.original.boxes} classes={preview.data.classes} alt={`${s.path} original`} size={140} />
              <figcaption className="muted">{t("original")}</figcaption>
            </figure>
            {s.variants.map((v, i) => (
              <figure key={i} style={{ margin: 0 }}>
                <LabelledImage src={v.image} boxes={v.boxes} classes={preview.data.classes} alt={`${s.path} variant ${i + 1}`} size={140} />
                <figcaption className="muted">#{i + 1}</figcaption>
              </figure>
            ))}
          </div>
        ))}
      </div>
    </>
  );
}
