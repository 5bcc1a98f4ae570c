"use client";

import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useEffect, useState } from "react";
import { useT } from "@/components/i18n";
import { errorText, useTRPC } from "@/components/trpc";

const STARTER = JSON.stringify(
  {
    nodes: [
      { id: "in", type: "Input" },
      { id: "c1", type: "Conv2d", data: { out: 16, k: 3 } },
      { id: "r1", type: "ReLU" },
      { id: "gap", type: "GlobalAvgPool" },
      { id: "fc", type: "Linear", data: { out: 3 } },
    ],
    edges: [
      { source: "in", target: "c1" },
      { source: "c1", target: "r1" },
      { source: "r1", target: "gap" },
      { source: "gap", target: "fc" },
    ],
  },
  null,
  2,
);

type Graph = { nodes: Record<string, unknown>[]; edges: Record<string, unknown>[] };

function parseGraph(text: string): { graph: Graph | null; error: string | null } {
  try {
    const value = JSON.parse(text) as Graph;
    if (!Array.isArray(value?.nodes)) return { graph: null, error: "the JSON needs a nodes array" };
    return { graph: { nodes: value.nodes, edges: Array.isArray(value.edges) ? value.edges : [] }, error: null };
  } catch (error) {
    return { graph: null, error: `not valid JSON: ${(error as Error).message}` };
  }
}

/** Architectures as JSON graphs with a live per-node shape summary from the engine (the visual builder comes later). */
export function ArchitecturesView({ canEdit }: { canEdit: boolean }) {
  const { t } = useT();
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const projects = useQuery(trpc.projects.list.queryOptions());
  const list = useQuery(trpc.architectures.list.queryOptions({}));
  const [editing, setEditing] = useState<{ id: number | null; name: string; projectId: number | null; task: "classify" | "detect"; text: string }>({ id: null, name: "", projectId: null, task: "classify", text: STARTER });
  const [debounced, setDebounced] = useState(editing.text);
  const [imgsz, setImgsz] = useState(64);
  useEffect(() => {
    const timer = setTimeout(() => setDebounced(editing.text), 400);
    return () => clearTimeout(timer);
  }, [editing.text]);
  const parsed = parseGraph(debounced);
  const analysis = useQuery({ ...trpc.architectures.analyze.queryOptions({ graph: parsed.graph ?? { nodes: [{}], edges: [] }, imgsz }), enabled: parsed.graph !== null, retry: false });

  const invalidate = () => queryClient.invalidateQueries({ queryKey: trpc.architectures.list.queryKey() });
  const create = useMutation(trpc.architectures.create.mutationOptions({ onSuccess: (a) => { void invalidate(); setEditing((e) => ({ ...e, id: a.id })); } }));
  const update = useMutation(trpc.architectures.update.mutationOptions({ onSuccess: invalidate }));
  const remove = useMutation(trpc.architectures.delete.mutationOptions({ onSuccess: invalidate }));
  const projectId = editing.projectId ?? projects.data?.find((p) => p.name === "default")?.id ?? projects.data?.[0]?.id ?? null;

  function save() {
    const { graph } = parseGraph(editing.text);
    if (!graph || !projectId) return;
    if (editing.id) update.mutate({ id: editing.id, name: editing.name, graph });
    else create.mutate({ projectId, name: editing.name, task: editing.task, description: "", graph });
  }

  const error = list.error ?? create.error ?? update.error ?? remove.error;
  return (
    <>
      <h1>{t("architectures")}</h1>
      {error && <p className="error" role="alert">{errorText(error)}</p>}
      <div className="panel">
        {list.data && list.data.length === 0 && <p className="empty">{t("noArchitectures")}</p>}
        <table>
          <tbody>
            {list.data?.map((a) => {
              const summary = a.summary as { totalParams?: number; totalFlops?: number };
              return (
                <tr key={a.id} data-testid="architecture-row">
                  <td>
                    <button className="link" onClick={() => setEditing({ id: a.id, name: a.name, projectId: a.projectId, task: a.task, text: JSON.stringify(a.graph, null, 2) })}>
                      {a.name}
                    </button>
                  </td>
                  <td>{a.task}</td>
                  <td>{summary.totalParams?.toLocaleString()} params</td>
                  <td>{summary.totalFlops?.toLocaleString()} FLOPs</td>
                  <td>{canEdit && <button className="danger" onClick={() => window.confirm(`${t("delete")} ${a.name}?`) && remove.mutate({ id: a.id })}>{t("delete")}</button>}</td>
                </tr>
              );
            })}
          </tbody>
        </table>
      </div>
      <div className="panel">
        <div className="row wrap">
          <strong>{editing.id ? `${t("rename")} / ${t("save")} #${editing.id}` : t("newArchitecture")}</strong>
          <input aria-label="architecture name" placeholder={t("name")} value={editing.name} onChange={(e) => setEditing({ ...editing, name: e.target.value })} />
          {!editing.id && (
            <select aria-label="task" value={editing.task} onChange={(e) => setEditing({ ...editing, task: e.target.value as "classify" | "detect" })}>
              <option value="classify">classify</option>
              <option value="detect">detect</option>
            </select>
          )}
          <label>
            imgsz <input type="number" aria-label="imgsz" value={imgsz} min={8} onChange={(e) => setImgsz(Number(e.target.value) || 64)} style={{ width: "5em" }} />
          </label>
          {canEdit && (
            <button className="primary" disabled={!editing.name || !parsed.graph || create.isPending || update.isPending} onClick={save}>
              {t("save")}
            </button>
          )}
          <button onClick={() => setEditing({ id: null, name: "", projectId: null, task: "classify", text: STARTER })}>{t("newArchitecture")}</button>
        </div>
        <div className="row wrap" style={{ alignItems: "flex-start" }}>
          <textarea aria-label="graph JSON" value={editing.text} onChange={(e) => setEditing({ ...editing, text: e.target.value })} rows={24} style={{ flex: 1, minWidth: 320, fontFamily: "monospace" }} />
          <div style={{ flex: 1, minWidth: 320 }} data-testid="shape-summary">
            {parsed.error && <p className="error">{parsed.error}</p>}
            {analysis.error && <p className="error">{errorText(analysis.error)}</p>}
            {analysis.data && (
              <table>
                <thead>
                  <tr>
                    <th>node</th>
                    <th>type</th>
                    <th>output</th>
                    <th>params</th>
                    <th>FLOPs</th>
                  </tr>
                </thead>
                <tbody>
                  {analysis.data.nodes.map((n) => (
                    <tr key={n.id}>
                      <td>{n.id}</td>
                      <td>{n.type}</td>
                      <td>[{n.outputShape.join(", ")}]</td>
                      <td>{n.params.toLocaleString()}</td>
                      <td>{n.flops.toLocaleString()}</td>
                    </tr>
                  ))}
                  <tr>
                    <td colSpan={3}>
                      <strong>total</strong>
                    </td>
                    <td>{analysis.data.totalParams.toLocaleString()}</td>
                    <td>{analysis.data.totalFlops.toLocaleString()}</td>
                  </tr>
                </tbody>
              </table>
            )}
          </div>
        </div>
      </div>
    </>
  );
}
