"use client";

import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";
import { useT } from "@/components/i18n";
import { ProjectSelect, useProjectChoice } from "@/components/project-select";
import { errorText, useTRPC } from "@/components/trpc";
import { useUpload } from "@/components/upload";
import { useTeamEvents } from "@/components/use-topic";
import { DatasetDetail } from "./dataset-detail";

export function DatasetsView({ canEdit }: { canEdit: boolean }) {
  const { t, statusLabel } = useT();
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const project = useProjectChoice();
  const { projectId } = project;
  const roots = useQuery(trpc.datasets.importRoots.queryOptions());
  const [selected, setSelected] = useState<number | null>(null);
  const invalidate = () => {
    queryClient.invalidateQueries({ queryKey: trpc.datasets.list.queryKey() });
    queryClient.invalidateQueries({ queryKey: trpc.datasets.failures.queryKey() });
  };
  // Import progress arrives as team events; without the socket the page polls while something imports.
  const { connected } = useTeamEvents((event) => event.type === "dataset.progress" && invalidate(), invalidate);
  const anyImporting = (list?: { status: string }[]) => (!connected && list?.some((d) => d.status === "importing") ? 1000 : false);
  const datasets = useQuery({ ...trpc.datasets.list.queryOptions({}), refetchInterval: (q) => anyImporting(q.state.data) });
  const failures = useQuery({ ...trpc.datasets.failures.queryOptions({}), refetchInterval: anyImporting(datasets.data) });
  const fromPath = useMutation(trpc.datasets.importFromPath.mutationOptions({ onSuccess: (row) => (invalidate(), setSelected(row.id)) }));
  const dismiss = useMutation(trpc.datasets.dismissFailure.mutationOptions({ onSuccess: invalidate }));

  const upload = useUpload("/api/datasets", {
    prepare: (form) => {
      if (projectId) form.set("project_id", String(projectId));
    },
    onUploaded: (row) => (invalidate(), setSelected(row.id)),
  });

  function submitPath(e: FormEvent<HTMLFormElement>) {
    e.preventDefault();
    const data = new FormData(e.currentTarget);
    if (!projectId) return;
    fromPath.mutate({ projectId, name: String(data.get("name")), path: String(data.get("path")), description: "" });
  }

  return (
    <>
      <h1>{t("datasets")}</h1>
      {canEdit && (
        <div className="panel">
          <div className="row">
            <strong>{t("importDataset")}</strong>
            <ProjectSelect choice={project} />
          </div>
          <form className="row" onSubmit={upload.submit} aria-label={t("uploadZip")} style={{ marginTop: 10 }}>
            <span className="muted">{t("uploadZip")}</span>
            <input name="name" placeholder={t("name")} required aria-label="dataset name" />
            <input name="file" type="file" accept=".zip" required aria-label="zip file" />
            <button className="primary" type="submit" disabled={upload.uploading}>
              {t("uploadZip")}
            </button>
            {upload.uploading && <progress max={100} value={upload.percent} aria-label="upload progress" />}
          </form>
          {upload.error && <p className="error" role="alert">{upload.error}</p>}
          {roots.data && roots.data.length > 0 && (
            <form className="row" onSubmit={submitPath} aria-label={t("serverFolder")} style={{ marginTop: 10 }}>
              <span className="muted">{t("serverFolder")}</span>
              <input name="name" placeholder={t("name")} required aria-label="dataset name (server folder)" />
              <input name="path" placeholder={roots.data[0]} required aria-label="server path" style={{ flex: 1 }} />
              <button type="submit" disabled={fromPath.isPending}>
                {t("create")}
              </button>
            </form>
          )}
          {fromPath.error && <p className="error" role="alert">{errorText(fromPath.error)}</p>}
        </div>
      )}
      {failures.data?.map((f) => (
        <p key={f.id} className="error panel" role="alert" data-testid="import-failure">
          {t("importFailed", { name: f.name, error: f.error })}{" "}
          {canEdit && (
            <button type="button" onClick={() => dismiss.mutate({ id: f.id })}>
              {t("dismiss")}
            </button>
          )}
        </p>
      ))}
      {datasets.error && <p className="error" role="alert">{errorText(datasets.error)}</p>}
      <div className="panel">
        {datasets.data?.length === 0 && <p className="empty">{t("noDatasets")}</p>}
        {datasets.data && datasets.data.length > 0 && (
          <table>
            <thead>
              <tr>
                <th>{t("name")}</th>
                <th>{t("status")}</th>
                <th>{t("format")}</th>
                <th>{t("images")}</th>
                <th>{t("classes")}</th>
              </tr>
            </thead>
            <tbody>
              {datasets.data.map((d) => (
                <tr key={d.id} data-testid="dataset-row" onClick={() => setSelected(d.id)} style={{ cursor: "pointer", background: selected === d.id ? "#eef2f8" : undefined }}>
                  <td>
                    <strong>{d.name}</strong>
                    <div className="muted">{d.description}</div>
                  </td>
                  <td>
                    <span className="badge">{d.status === "importing" ? t("importing") : statusLabel(d.status)}</span>
                    {d.status === "importing" && (
                      <div className="row">
                        <progress max={1} value={d.progress} aria-label="import progress" data-testid="import-progress" />
                        <span className="muted">{d.stage}</span>
                      </div>
                    )}
                  </td>
                  <td>{d.status === "ready" ? `${d.format} (${t(d.task)})` : ""}</td>
                  <td>{d.stats?.images ?? ""}</td>
                  <td>{d.classes.length || ""}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </div>
      {selected !== null && datasets.data?.some((d) => d.id === selected && d.status === "ready") && (
        <DatasetDetail key={selected} id={selected} canEdit={canEdit} onDeleted={() => (setSelected(null), invalidate())} />
      )}
    </>
  );
}
