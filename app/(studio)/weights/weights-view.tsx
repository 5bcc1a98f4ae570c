"use client";

import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";
import { useT } from "@/components/i18n";
import { ProjectSelect, useProjectChoice } from "@/components/project-select";
import { errorText, useTRPC } from "@/components/trpc";
import { useUpload } from "@/components/upload";
import { fileSize, headlineMetric, tagList } from "./format";
import { WeightsDetail } from "./weights-detail";

const FORMATS = ["onnx", "pt", "ckpt", "tfjs"] as const;
const TASKS = ["detect", "classify", "segment", "pose", "obb"];

export function WeightsView({ canEdit }: { canEdit: boolean }) {
  const { t } = useT();
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const project = useProjectChoice();
  const { projectId } = project;
  const roots = useQuery(trpc.datasets.importRoots.queryOptions());
  const [search, setSearch] = useState("");
  const [format, setFormat] = useState<"" | (typeof FORMATS)[number]>("");
  const [task, setTask] = useState("");
  const [tag, setTag] = useState("");
  const [selected, setSelected] = useState<number | null>(null);
  const filters = { search: search.trim() || undefined, format: format || undefined, task: task || undefined, tag: tag.trim() || undefined, limit: 500 };
  const list = useQuery(trpc.weights.list.queryOptions(filters));
  const invalidate = () => queryClient.invalidateQueries({ queryKey: trpc.weights.list.queryKey() });
  const fromPath = useMutation(trpc.weights.importFromPath.mutationOptions({ onSuccess: (row) => (invalidate(), setSelected(row.id)) }));

  const upload = useUpload("/api/weights", {
    prepare: (form) => {
      if (projectId) form.set("project_id", String(projectId));
      if (!String(form.get("name") ?? "").trim()) form.delete("name");
    },
    onUploaded: (row) => (invalidate(), setSelected(row.id)),
  });

  function submitPath(e: FormEvent<HTMLFormElement>) {
    e.preventDefault();
    const data = new FormData(e.currentTarget);
    if (!projectId) return;
    fromPath.mutate({ projectId, path: String(data.get("path")), tags: tagList(String(data.get("tags") ?? "")), description: "" });
  }

  return (
    <>
      <h1>{t("weights")}</h1>
      {canEdit && (
        <div className="panel">
          <div className="row">
            <strong>{t("importWeights")}</strong>
            <ProjectSelect choice={project} />
          </div>
          <form className="row" onSubmit={upload.submit} aria-label={t("uploadWeights")} style={{ marginTop: 10 }}>
            <input name="file" type="file" accept=".onnx,.pt,.pth,.ckpt,.zip" required aria-label="weights file" />
            <input name="name" placeholder={t("name")} aria-label="weights name" />
            <input name="tags" placeholder={t("tagsHint")} aria-label="weights tags" />
            <button className="primary" type="submit" disabled={upload.uploading}>
              {t("uploadWeights")}
            </button>
            {upload.uploading && <progress max={100} value={upload.percent} aria-label="upload progress" />}
          </form>
          {upload.error && (
            <p className="error" role="alert">
              {upload.error}
            </p>
          )}
          {roots.data && roots.data.length > 0 && (
            <form className="row" onSubmit={submitPath} aria-label={t("serverFile")} style={{ marginTop: 10 }}>
              <span className="muted">{t("serverFile")}</span>
              <input name="path" placeholder={`${roots.data[0]}/yolov8n.pt`} required aria-label="server path" style={{ flex: 1 }} />
              <input name="tags" placeholder={t("tagsHint")} aria-label="server file tags" />
              <button type="submit" disabled={fromPath.isPending}>
                {t("create")}
              </button>
            </form>
          )}
          {fromPath.error && (
            <p className="error" role="alert">
              {errorText(fromPath.error)}
            </p>
          )}
        </div>
      )}
      <div className="panel row">
        <input value={search} onChange={(e) => setSearch(e.target.value)} placeholder={t("search")} aria-label="search weights" style={{ flex: 1 }} />
        <select value={format} onChange={(e) => setFormat(e.target.value as typeof format)} aria-label="format filter">
          <option value="">{t("allFormats")}</option>
          {FORMATS.map((f) => (
            <option key={f} value={f}>
              {f}
            </option>
          ))}
        </select>
        <select value={task} onChange={(e) => setTask(e.target.value)} aria-label="task filter">
          <option value="">{t("allTasks")}</option>
          {TASKS.map((name) => (
            <option key={name} value={name}>
              {name}
            </option>
          ))}
        </select>
        <input value={tag} onChange={(e) => setTag(e.target.value)} placeholder={t("tags")} aria-label="tag filter" />
      </div>
      {list.error && (
        <p className="error" role="alert">
          {errorText(list.error)}
        </p>
      )}
      <div className="panel">
        {list.data?.length === 0 && <p className="empty">{t("noWeights")}</p>}
        {list.data && list.data.length > 0 && (
          <table>
            <thead>
              <tr>
                <th>{t("name")}</th>
                <th>{t("format")}</th>
                <th>{t("task")}</th>
                <th>{t("size")}</th>
                <th>{t("metric")}</th>
                <th>{t("sourceRun")}</th>
              </tr>
            </thead>
            <tbody>
              {list.data.map((w) => {
                const metric = headlineMetric(w.metrics);
                return (
                  <tr key={w.id} data-testid="weights-row" onClick={() => setSelected(w.id)} style={{ cursor: "pointer", background: selected === w.id ? "#eef2f8" : undefined }}>
                    <td>
                      <strong>{w.name}</strong> {w.status !== "ready" && <span className="badge">{w.status}</span>}
                      <div>
                        {w.tags.map((name) => (
                          <span key={name} className="badge" style={{ marginRight: 4 }}>
                            {name}
                          </span>
                        ))}
                      </div>
                    </td>
                    <td>{w.format}</td>
                    <td>{w.task ?? "—"}</td>
                    <td>{fileSize(w.bytes)}</td>
                    <td>{metric ? `${metric.name} ${metric.value.toFixed(3)}` : "—"}</td>
                    <td>{w.sourceExperimentName ?? "—"}</td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        )}
      </div>
      {selected !== null && list.data?.some((w) => w.id === selected) && (
        <WeightsDetail key={selected} id={selected} canEdit={canEdit} onChanged={invalidate} onDeleted={() => (setSelected(null), invalidate())} onOpen={(id) => (invalidate(), setSelected(id))} />
      )}
    </>
  );
}
