"use client";

import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import Link from "next/link";
import { useCallback, useRef, useState } from "react";
import { GraphBuilder } from "@/components/graph-editor/builder";
import type { StoredGraph } from "@/components/graph-editor/model";
import { useT } from "@/components/i18n";
import { errorText, useTRPC } from "@/components/trpc";
import { ArchitectureList, type ArchitectureRow } from "./architecture-list";
import { CodeView } from "./code-view";
import { OpenMenu, type Opened } from "./open-menu";
import { Versions } from "./versions";

type Task = "classify" | "detect";

interface Editing {
  id: number | null;
  projectId: number | null;
  name: string;
  task: Task;
  graph: StoredGraph;
  /** Changes when another graph is opened, so the canvas reloads. */
  key: string;
  warnings: string[];
}

const STARTER: StoredGraph = {
  nodes: [
    { id: "input", type: "Input", data: {} },
    { id: "conv1", type: "Conv2d", data: { filters: 16, kernel_size: 3, padding: 1, activation: "relu" } },
    { id: "gap", type: "GlobalAvgPool", data: {} },
    { id: "fc", type: "Dense", data: { units: 3 } },
  ],
  edges: [
    { source: "input", target: "conv1" },
    { source: "conv1", target: "gap" },
    { source: "gap", target: "fc" },
  ],
};

const defaultImgsz = (task: Task) => (task === "detect" ? 640 : 64);
let opened = 0;

/** The model builder: the team's architectures, the canvas, saving with versions, code and YAML views, and "Train this". */
export function ArchitecturesView({ canEdit }: { canEdit: boolean }) {
  const { t } = useT();
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const projects = useQuery(trpc.projects.list.queryOptions());
  const list = useQuery(trpc.architectures.list.queryOptions({}));
  const catalog = useQuery(trpc.architectures.nodeTypes.queryOptions());
  const [editing, setEditing] = useState<Editing>({ id: null, projectId: null, name: "", task: "classify", graph: STARTER, key: "starter", warnings: [] });
  const [imgsz, setImgsz] = useState(64);
  const [showVersions, setShowVersions] = useState(false);
  const latest = useRef<StoredGraph>(STARTER);
  const [graph, setGraph] = useState<StoredGraph>(STARTER);
  const onGraphChange = useCallback((g: StoredGraph) => {
    latest.current = g;
    setGraph(g);
  }, []);

  const invalidate = () => {
    void queryClient.invalidateQueries({ queryKey: trpc.architectures.list.queryKey() });
    void queryClient.invalidateQueries({ queryKey: trpc.architectures.versions.queryKey() });
  };
  const create = useMutation(trpc.architectures.create.mutationOptions({ onSuccess: (a) => (invalidate(), setEditing((e) => ({ ...e, id: a.id, projectId: a.projectId, name: a.name }))) }));
  const update = useMutation(trpc.architectures.update.mutationOptions({ onSuccess: invalidate }));
  const remove = useMutation(trpc.architectures.delete.mutationOptions({ onSuccess: invalidate }));
  const projectId = editing.projectId ?? projects.data?.find((p) => p.name === "default")?.id ?? projects.data?.[0]?.id ?? null;

  function open(next: Omit<Editing, "key">) {
    latest.current = next.graph;
    setGraph(next.graph);
    setEditing({ ...next, key: `${next.id ?? "new"}-${++opened}` });
    setImgsz(defaultImgsz(next.task));
    setShowVersions(false);
  }
  async function openSaved(id: number) {
    const row = await queryClient.fetchQuery(trpc.architectures.byId.queryOptions({ id }));
    open({ id: row.id, projectId: row.projectId, name: row.name, task: row.task, graph: row.graph as unknown as StoredGraph, warnings: [] });
  }
  async function openVersion(version: number) {
    if (!editing.id) return;
    const row = await queryClient.fetchQuery(trpc.architectures.version.queryOptions({ id: editing.id, version }));
    open({ ...editing, graph: row.graph as unknown as StoredGraph, warnings: [t("versionOpened", { version })] });
  }
  function openNew(o: Opened) {
    open({ id: null, projectId: null, name: o.name, task: o.task, graph: o.graph, warnings: o.warnings });
  }

  function save() {
    const g = latest.current as never;
    if (editing.id) update.mutate({ id: editing.id, name: editing.name, graph: g });
    else if (projectId) create.mutate({ projectId, name: editing.name, task: editing.task, description: "", graph: g });
  }
  function saveAs() {
    const name = window.prompt(t("saveAsName"), `${editing.name} copy`);
    if (name && projectId) create.mutate({ projectId, name, task: editing.task, description: "", graph: latest.current as never });
  }

  const error = list.error ?? create.error ?? update.error ?? remove.error ?? catalog.error;
  const saving = create.isPending || update.isPending;
  return (
    <>
      <h1>{t("architectures")}</h1>
      {error && (
        <p className="error" role="alert">
          {errorText(error)}
        </p>
      )}
      <div className="panel">
        <ArchitectureList
          rows={(list.data ?? []) as ArchitectureRow[]}
          canEdit={canEdit}
          openId={editing.id}
          onOpen={(id) => void openSaved(id)}
          onDelete={(a) => window.confirm(t("confirmDelete", { name: a.name })) && remove.mutate({ id: a.id })}
        />
      </div>
      <div className="panel">
        <OpenMenu onOpen={openNew} />
      </div>
      <div className="panel">
        <div className="row wrap" style={{ marginBottom: 8 }}>
          <strong>{editing.id ? `#${editing.id}` : t("newArchitecture")}</strong>
          <input aria-label={t("architectureName")} placeholder={t("name")} value={editing.name} onChange={(e) => setEditing({ ...editing, name: e.target.value })} />
          <select aria-label={t("task")} value={editing.task} disabled={editing.id !== null} onChange={(e) => setEditing({ ...editing, task: e.target.value as Task })}>
            <option value="classify">{t("classify")}</option>
            <option value="detect">{t("detect")}</option>
          </select>
          <label>
            imgsz <input type="number" aria-label="imgsz" value={imgsz} min={8} max={2048} step={32} onChange={(e) => setImgsz(Math.min(2048, Math.max(8, Number(e.target.value) || 64)))} style={{ width: "5.5em" }} />
          </label>
          {canEdit && (
            <>
              <button type="button" className="primary" disabled={!editing.name.trim() || saving || !projectId} onClick={save}>
                {t("save")}
              </button>
              <button type="button" disabled={!editing.name.trim() || saving || !projectId} onClick={saveAs}>
                {t("saveAs")}
              </button>
            </>
          )}
          {editing.id && (
            <>
              <button type="button" onClick={() => setShowVersions((v) => !v)} aria-expanded={showVersions}>
                {t("versionHistory")}
              </button>
              <Link style={{ padding: "7px 12px", border: "1px solid var(--line)", borderRadius: 6, background: "#fff" }} href={`/experiments/new?architecture=${editing.id}&project=${editing.projectId ?? ""}`} data-testid="train-this">
                {t("trainThis")}
              </Link>
            </>
          )}
          <button type="button" onClick={() => open({ id: null, projectId: null, name: "", task: "classify", graph: STARTER, warnings: [] })}>
            {t("newArchitecture")}
          </button>
          {(create.isSuccess || update.isSuccess) && !saving && <span className="muted">{t("saved")}</span>}
        </div>
        {editing.warnings.map((w) => (
          <p key={w} className="muted" role="status">
            ⚠ {w}
          </p>
        ))}
        {showVersions && editing.id && <Versions architectureId={editing.id} onOpen={(v) => void openVersion(v)} />}
        {catalog.data ? (
          <GraphBuilder graph={editing.graph} graphKey={editing.key} catalog={catalog.data} imgsz={imgsz} readOnly={!canEdit} onChange={onGraphChange} />
        ) : (
          <p className="muted">{t("analysing")}</p>
        )}
      </div>
      <CodeView graph={graph} imgsz={imgsz} name={editing.name || "model"} />
    </>
  );
}
