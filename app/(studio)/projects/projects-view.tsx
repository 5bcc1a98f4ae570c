"use client";

import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";
import { useT } from "@/components/i18n";
import { errorText, useTRPC } from "@/components/trpc";

export function ProjectsView({ canEdit, canDelete }: { canEdit: boolean; canDelete: boolean }) {
  const { t } = useT();
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const projects = useQuery(trpc.projects.list.queryOptions());
  const invalidate = () => queryClient.invalidateQueries({ queryKey: trpc.projects.list.queryKey() });
  const create = useMutation(trpc.projects.create.mutationOptions({ onSuccess: invalidate }));
  const rename = useMutation(trpc.projects.rename.mutationOptions({ onSuccess: invalidate }));
  const remove = useMutation(trpc.projects.delete.mutationOptions({ onSuccess: invalidate }));
  const setDefault = useMutation(trpc.projects.setDefaultDataset.mutationOptions({ onSuccess: invalidate }));
  const datasets = useQuery(trpc.datasets.list.queryOptions({}));
  const [editing, setEditing] = useState<{ id: number; name: string } | null>(null);

  function submitCreate(e: FormEvent<HTMLFormElement>) {
    e.preventDefault();
    const form = e.currentTarget;
    const data = new FormData(form);
    create.mutate(
      { name: String(data.get("name")), description: String(data.get("description") ?? "") },
      { onSuccess: () => form.reset() },
    );
  }

  const error = create.error ?? rename.error ?? remove.error ?? setDefault.error ?? projects.error;
  return (
    <>
      <h1>{t("projects")}</h1>
      {canEdit && (
        <form className="panel row" onSubmit={submitCreate} aria-label={t("newProject")}>
          <strong>{t("newProject")}</strong>
          <input name="name" placeholder={t("name")} required aria-label="project name" />
          <input name="description" placeholder={t("description")} aria-label="project description" style={{ flex: 1 }} />
          <button className="primary" type="submit" disabled={create.isPending}>
            {t("create")}
          </button>
        </form>
      )}
      {error && <p className="error" role="alert">{errorText(error)}</p>}
      <div className="panel">
        {projects.data && projects.data.length === 0 && <p className="empty">{t("noProjects")}</p>}
        <table>
          <thead>
            <tr>
              <th>{t("name")}</th>
              <th>{t("description")}</th>
              <th title={t("defaultDatasetHint")}>{t("defaultDataset")}</th>
              <th>{t("created")}</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {projects.data?.map((p) => (
              <tr key={p.id} data-testid="project-row">
                <td>
                  {editing?.id === p.id ? (
                    <form
                      className="row"
                      onSubmit={(e) => {
                        e.preventDefault();
                        rename.mutate({ id: p.id, name: editing.name }, { onSuccess: () => setEditing(null) });
                      }}
                    >
                      <input value={editing.name} onChange={(e) => setEditing({ id: p.id, name: e.target.value })} aria-label="new name" />
                      <button type="submit">{t("save")}</button>
                      <button type="button" onClick={() => setEditing(null)}>
                        {t("cancel")}
                      </button>
                    </form>
                  ) : (
                    <strong>{p.name}</strong>
                  )}
                </td>
                <td className="muted">{p.description}</td>
                <td>
                  <select
                    aria-label={`default dataset of ${p.name}`}
                    disabled={!canEdit}
                    value={p.defaultDatasetId ?? ""}
                    onChange={(e) => setDefault.mutate({ projectId: p.id, datasetId: e.target.value ? Number(e.target.value) : null })}
                  >
                    <option value="">{t("noDefaultDataset")}</option>
                    {datasets.data
                      ?.filter((d) => d.projectId === p.id)
                      .map((d) => (
                        <option key={d.id} value={d.id}>
                          {d.name}
                        </option>
                      ))}
                  </select>
                </td>
                <td className="muted">{new Date(p.createdAt).toLocaleString()}</td>
                <td className="row" style={{ justifyContent: "flex-end" }}>
                  {canEdit && p.name !== "default" && (
                    <button type="button" onClick={() => setEditing({ id: p.id, name: p.name })}>
                      {t("rename")}
                    </button>
                  )}
                  {canDelete && p.name !== "default" && (
                    <button
                      type="button"
                      className="danger"
                      onClick={() => confirm(t("confirmDeleteProject", { name: p.name })) && remove.mutate({ id: p.id })}
                    >
                      {t("delete")}
                    </button>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </>
  );
}
