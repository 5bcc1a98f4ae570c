"use client";

import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useEffect, useRef, useState, type PointerEvent as ReactPointerEvent } from "react";
import { useT } from "@/components/i18n";
import { errorText, useTRPC } from "@/components/trpc";
import { LabelledImage } from "../datasets/box-overlay";
import { OpCard, type OpInfo, type PipelineOp } from "./op-card";

/** Pipelines as a list of op cards generated from the op library's schemas, reordered by dragging, with a live preview; the JSON is a view. */
export function AugmentationsView({ canEdit }: { canEdit: boolean }) {
  const { t } = useT();
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const projects = useQuery(trpc.projects.list.queryOptions());
  const list = useQuery(trpc.augmentations.list.queryOptions({}));
  const library = useQuery(trpc.augmentations.ops.queryOptions());
  const datasets = useQuery(trpc.datasets.list.queryOptions({}));
  const [editingId, setEditingId] = useState<number | null>(null);
  const [name, setName] = useState("");
  const [description, setDescription] = useState("");
  const [ops, setOps] = useState<PipelineOp[]>([]);
  const [drag, setDrag] = useState<{ from: number; to: number } | null>(null);
  const cards = useRef<HTMLDivElement>(null);
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
    setOps([]);
  }

  function addOp(op: string) {
    setOps((list) => [...list, { op }]);
  }

  function move(from: number, to: number) {
    setOps((list) => {
      if (to < 0 || to >= list.length || from === to) return list;
      const next = [...list];
      const [picked] = next.splice(from, 1);
      next.splice(to, 0, picked);
      return next;
    });
  }

  /** Pointer drag on a card's handle: the card goes where the pointer is released, between the others. */
  function startDrag(from: number, event: ReactPointerEvent) {
    event.preventDefault();
    const slotAt = (y: number) => {
      const boxes = [...(cards.current?.querySelectorAll<HTMLElement>('[data-testid="op-card"]') ?? [])].map((el) => el.getBoundingClientRect());
      const index = boxes.findIndex((b) => y < b.top + b.height / 2);
      return index < 0 ? boxes.length - 1 : index > from ? index - 1 : index;
    };
    setDrag({ from, to: from });
    const moveTo = (e: PointerEvent) => setDrag({ from, to: slotAt(e.clientY) });
    const up = (e: PointerEvent) => {
      window.removeEventListener("pointermove", moveTo);
      window.removeEventListener("pointerup", up);
      setDrag(null);
      move(from, slotAt(e.clientY));
    };
    window.addEventListener("pointermove", moveTo);
    window.addEventListener("pointerup", up);
  }

  // The preview follows the pipeline, 600 ms after the last change.
  useEffect(() => {
    if (!datasetId) return;
    const timer = setTimeout(() => setRequest({ datasetId, pipeline: ops, seed }), 600);
    return () => clearTimeout(timer);
  }, [ops, datasetId, seed]);

  const projectId = projects.data?.find((p) => p.name === "default")?.id ?? projects.data?.[0]?.id;
  function save() {
    if (editingId) update.mutate({ id: editingId, name, description, pipeline: ops });
    else if (projectId) create.mutate({ projectId, name, description, pipeline: ops });
  }

  const error = create.error ?? update.error ?? remove.error ?? list.error;
  /** The server names a mistake as pipeline[i].field: shown on card i. */
  const opError = (i: number) => {
    const text = [error, preview.error].map((e) => (e as { message?: string } | null)?.message ?? "").find((m) => m.includes(`pipeline[${i}]`));
    return text ? text.split(/;\s*/).filter((part) => part.includes(`pipeline[${i}]`)).join("; ") : null;
  };
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
                    setOps(a.pipeline as PipelineOp[]);
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
              {library.data?.map((o) => (
                <option key={o.op} value={o.op} title={o.description}>
                  {o.op}
                </option>
              ))}
            </select>
            <span className="muted">{t("opsCount", { count: library.data?.length ?? 0 })}</span>
          </div>
          <div ref={cards} style={{ marginTop: 8 }} data-testid="op-cards">
            {ops.length === 0 && <p className="muted">{t("noOpsYet")}</p>}
            {ops.map((op, i) => (
              <div key={i}>
                {drag && drag.to === i && drag.from > i && <hr style={{ borderColor: "var(--accent)" }} />}
                <OpCard
                  index={i}
                  op={op}
                  info={library.data?.find((o) => o.op === op.op) as OpInfo | undefined}
                  error={opError(i)}
                  dragging={drag?.from === i}
                  onChange={(next) => setOps((list) => list.map((o, j) => (j === i ? next : o)))}
                  onRemove={() => setOps((list) => list.filter((_, j) => j !== i))}
                  onMove={(delta) => move(i, i + delta)}
                  onDragStart={(e) => startDrag(i, e)}
                />
                {drag && drag.to === i && drag.from < i && <hr style={{ borderColor: "var(--accent)" }} />}
              </div>
            ))}
          </div>
          <details>
            <summary>{t("pipelineJson")}</summary>
            <pre aria-label="pipeline json" style={{ fontSize: 12, overflow: "auto" }}>
              {JSON.stringify(ops, null, 2)}
            </pre>
          </details>
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
        <div className="panel" style={{ flex: 1, minWidth: 320 }} data-testid="live-preview">
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
            <button type="button" disabled={!datasetId} onClick={() => datasetId && setRequest({ datasetId, pipeline: ops, seed })}>
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
      </div>
    </>
  );
}
