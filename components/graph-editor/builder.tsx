"use client";

import "@xyflow/react/dist/style.css";
import { useMutation } from "@tanstack/react-query";
import {
  applyEdgeChanges,
  applyNodeChanges,
  Background,
  Controls,
  MiniMap,
  ReactFlow,
  ReactFlowProvider,
  useNodesInitialized,
  useReactFlow,
  type Connection,
  type Edge,
  type EdgeChange,
  type NodeChange,
} from "@xyflow/react";
import { useCallback, useEffect, useMemo, useRef, useState, type KeyboardEvent } from "react";
import { useT } from "@/components/i18n";
import { errorText, useTRPC } from "@/components/trpc";
import { EditorContext, findType, type GraphProblemView, type NodeSummaryView, type NodeTypeInfo } from "./context";
import { useHistory, type Snapshot } from "./history";
import { innerView } from "./inner-view";
import { layoutNodes } from "./layout";
import { flowEdge, freshId, toFlow, toGraph, type EditorNode, type LayerNode, type StoredGraph } from "./model";
import { BlockFrame, InnerNodeCard, LayerNodeCard } from "./nodes";
import { Palette } from "./palette";
import { ParamPanel } from "./param-panel";
import { Totals, type Inspection } from "./totals";
import styles from "./graph-editor.module.css";

const nodeTypes = { layer: LayerNodeCard, inner: InnerNodeCard, block: BlockFrame };
/** Small graphs are not blown up past their real size. */
const FIT = { padding: 0.15, maxZoom: 1 };

export interface BuilderProps {
  /** The graph to open; the editor reloads when `graphKey` changes. */
  graph: StoredGraph;
  graphKey: string;
  catalog: NodeTypeInfo[];
  imgsz: number;
  readOnly?: boolean;
  onChange(graph: StoredGraph): void;
  onInspection?(inspection: Inspection | null): void;
}

/** The graph without positions: what the analysis depends on. */
const structure = (g: StoredGraph) => JSON.stringify({ n: g.nodes.map((n) => [n.id, n.type, n.data]), e: g.edges });

function Canvas({ graph, graphKey, catalog, imgsz, readOnly = false, onChange, onInspection }: BuilderProps) {
  const { t } = useT();
  const trpc = useTRPC();
  const flow = useReactFlow();
  const wrapper = useRef<HTMLDivElement>(null);
  const [nodes, setNodes] = useState<EditorNode[]>([]);
  const [edges, setEdges] = useState<Edge[]>([]);
  const [expanded, setExpanded] = useState<Set<string>>(new Set());
  const [inspection, setInspection] = useState<Inspection | null>(null);
  const clipboard = useRef<Snapshot | null>(null);
  const history = useHistory();
  const byType = useMemo(() => new Map(catalog.map((c) => [c.type, c])), [catalog]);
  const current = useRef<Snapshot>({ nodes, edges });
  current.current = { nodes, edges };

  // Fit once React Flow has measured the opened graph's nodes (fitting before that sees no sizes).
  const fitPending = useRef(false);
  const measured = useNodesInitialized();
  useEffect(() => {
    if (!measured || !fitPending.current) return;
    fitPending.current = false;
    void flow.fitView(FIT);
  }, [measured, flow, nodes]);

  // Open a graph: lay it out with elk when it has no positions (imports, templates, the old format).
  useEffect(() => {
    let cancelled = false;
    const { nodes: opened, edges: openedEdges, positioned } = toFlow(graph);
    const place = positioned ? Promise.resolve(opened) : layoutNodes(opened, openedEdges);
    void place.then((placed) => {
      if (cancelled) return;
      setNodes(placed);
      setEdges(openedEdges);
      setExpanded(new Set());
      history.reset();
      fitPending.current = true;
    });
    return () => {
      cancelled = true;
    };
    // Only a new graphKey reopens; edits flow out through onChange.
  }, [graphKey]);

  const stored = useMemo(() => toGraph(nodes, edges), [nodes, edges]);
  const shape = structure(stored);
  // Nothing goes out before the opened graph is on the canvas.
  const loaded = useRef(false);
  useEffect(() => {
    if (stored.nodes.length > 0) loaded.current = true;
    if (loaded.current) onChange(stored);
  }, [stored, onChange]);

  // Live analysis by the engine on the server, 300 ms after the last structural change.
  const inspect = useMutation(trpc.architectures.inspect.mutationOptions());
  const inspectRef = useRef(inspect.mutateAsync);
  inspectRef.current = inspect.mutateAsync;
  useEffect(() => {
    if (stored.nodes.length === 0) return;
    let stale = false;
    const timer = setTimeout(() => {
      void inspectRef.current({ graph: stored as never, imgsz }).then(
        (result) => !stale && setInspection(result as Inspection),
        () => !stale && setInspection(null),
      );
    }, 300);
    return () => {
      stale = true;
      clearTimeout(timer);
    };
  }, [shape, imgsz]);
  useEffect(() => onInspection?.(inspection), [inspection, onInspection]);

  const summaries = useMemo(() => new Map((inspection?.summary?.nodes ?? []).map((s: NodeSummaryView) => [s.id, s])), [inspection]);
  const error: GraphProblemView | null = inspection?.error ?? null;

  const change = useCallback(
    (next: Snapshot) => {
      history.record(current.current);
      setNodes(next.nodes);
      setEdges(next.edges);
    },
    [history],
  );

  const addNode = useCallback(
    (type: string, position: { x: number; y: number }) => {
      if (readOnly) return;
      const taken = new Set(current.current.nodes.map((n) => n.id));
      const id = freshId(type, taken);
      const node: LayerNode = { id, type: "layer", position, data: { type, params: {} }, selected: true };
      change({ nodes: [...current.current.nodes.map((n) => ({ ...n, selected: false })), node], edges: current.current.edges });
    },
    [change, readOnly],
  );

  const dropAt = useCallback(
    (type: string, x: number, y: number) => {
      const box = wrapper.current?.getBoundingClientRect();
      if (!box || x < box.left || x > box.right || y < box.top || y > box.bottom) return;
      addNode(type, flow.screenToFlowPosition({ x: x - 105, y: y - 20 }));
    },
    [addNode, flow],
  );

  const addInMiddle = useCallback(
    (type: string) => {
      const box = wrapper.current?.getBoundingClientRect();
      if (box) addNode(type, flow.screenToFlowPosition({ x: box.left + box.width / 2 - 105, y: box.top + box.height / 2 }));
    },
    [addNode, flow],
  );

  const onNodesChange = useCallback((changes: NodeChange<EditorNode>[]) => {
    // Deleting is ours (one undo step for nodes and their edges); an unfolded block's nodes only get measured.
    const kept = changes.filter((c) => c.type !== "remove");
    const isDisplay = (c: NodeChange<EditorNode>) => "id" in c && /^(inner|frame):/.test(c.id);
    const own = kept.filter((c) => !isDisplay(c));
    const shown = kept.filter(isDisplay);
    // An empty list would still make a new array, and a new array of nodes unfolds the blocks again.
    if (own.length) setNodes((ns) => applyNodeChanges(own, ns));
    if (shown.length) setDisplay((ds) => applyNodeChanges(shown, ds));
  }, []);
  const onEdgesChange = useCallback((changes: EdgeChange[]) => {
    const kept = changes.filter((c) => c.type !== "remove" && !("id" in c && c.id.startsWith("inner:")));
    if (kept.length) setEdges((es) => applyEdgeChanges(kept, es));
  }, []);

  const onConnect = useCallback(
    (c: Connection) => {
      if (readOnly || !c.source || !c.target || c.source === c.target) return;
      const layerIds = new Set(current.current.nodes.filter((n) => n.type === "layer").map((n) => n.id));
      if (!layerIds.has(c.source) || !layerIds.has(c.target)) return;
      if (current.current.edges.some((e) => e.source === c.source && e.target === c.target)) return;
      change({ nodes: current.current.nodes, edges: [...current.current.edges, flowEdge(c.source, c.target)] });
    },
    [change, readOnly],
  );

  const removeSelected = useCallback(() => {
    const { nodes: ns, edges: es } = current.current;
    const gone = new Set(ns.filter((n) => n.selected && n.type === "layer").map((n) => n.id));
    const keptEdges = es.filter((e) => !e.selected && !gone.has(e.source) && !gone.has(e.target));
    if (gone.size === 0 && keptEdges.length === es.length) return;
    change({ nodes: ns.filter((n) => !gone.has(n.id)), edges: keptEdges });
  }, [change]);

  const copy = useCallback(() => {
    const { nodes: ns, edges: es } = current.current;
    const picked = ns.filter((n) => n.selected && n.type === "layer");
    const ids = new Set(picked.map((n) => n.id));
    clipboard.current = { nodes: picked, edges: es.filter((e) => ids.has(e.source) && ids.has(e.target)) };
  }, []);

  const paste = useCallback(() => {
    const copied = clipboard.current;
    if (!copied || copied.nodes.length === 0 || readOnly) return;
    const { nodes: ns, edges: es } = current.current;
    const taken = new Set(ns.map((n) => n.id));
    const renamed = new Map<string, string>();
    for (const n of copied.nodes) {
      const id = freshId((n as LayerNode).data.type, taken);
      taken.add(id);
      renamed.set(n.id, id);
    }
    const pasted = copied.nodes.map((n) => ({ ...(n as LayerNode), id: renamed.get(n.id)!, position: { x: n.position.x + 40, y: n.position.y + 40 }, selected: true }));
    const pastedEdges = copied.edges.map((e) => flowEdge(renamed.get(e.source)!, renamed.get(e.target)!));
    change({ nodes: [...ns.map((n) => ({ ...n, selected: false })), ...pasted], edges: [...es, ...pastedEdges] });
  }, [change, readOnly]);

  const undo = useCallback(() => {
    const previous = history.undo(current.current);
    if (previous) {
      setNodes(previous.nodes);
      setEdges(previous.edges);
    }
  }, [history]);
  const redo = useCallback(() => {
    const next = history.redo(current.current);
    if (next) {
      setNodes(next.nodes);
      setEdges(next.edges);
    }
  }, [history]);

  const relayout = useCallback(async () => {
    const layers = current.current.nodes.filter((n): n is LayerNode => n.type === "layer");
    const placed = await layoutNodes(layers, current.current.edges);
    setExpanded(new Set());
    change({ nodes: placed, edges: current.current.edges });
    fitPending.current = true;
  }, [change, flow]);

  function onKeyDown(e: KeyboardEvent<HTMLDivElement>) {
    const target = e.target as HTMLElement;
    if (["INPUT", "TEXTAREA", "SELECT"].includes(target.tagName)) return;
    const mod = e.ctrlKey || e.metaKey;
    const key = e.key.toLowerCase();
    const actions: [boolean, () => void][] = [
      [key === "delete" || key === "backspace", removeSelected],
      [mod && key === "z" && !e.shiftKey, undo],
      [mod && (key === "y" || (key === "z" && e.shiftKey)), redo],
      [mod && key === "c", copy],
      [mod && key === "v", paste],
      [mod && key === "a", () => setNodes((ns) => ns.map((n) => ({ ...n, selected: n.type === "layer" })))],
      [!mod && key === "f", () => flow.fitView(FIT)],
      [!mod && key === "l", () => void relayout()],
    ];
    if (readOnly && !(mod && key === "c")) return;
    const action = actions.find(([matches]) => matches);
    if (!action) return;
    e.preventDefault();
    action[1]();
  }

  const toggleExpanded = useCallback((id: string) => setExpanded((s) => (s.has(id) ? new Set([...s].filter((x) => x !== id)) : new Set([...s, id]))), []);
  const unfolded = useMemo(() => innerView(nodes, summaries, expanded), [nodes, summaries, expanded]);
  // React Flow measures nodes through onNodesChange; the unfolded view keeps its own state for that.
  const [display, setDisplay] = useState<EditorNode[]>([]);
  useEffect(() => setDisplay(unfolded.nodes), [unfolded.nodes]);
  const erroredEdges = useMemo(() => new Set(error?.nodeId ? edges.filter((e) => e.target === error.nodeId).map((e) => e.id) : []), [edges, error]);
  const inputCounts = useMemo(() => {
    const counts = new Map<string, number>();
    for (const e of edges) counts.set(e.target, (counts.get(e.target) ?? 0) + 1);
    return counts;
  }, [edges]);
  const shownEdges = useMemo(() => {
    const order = new Map<string, number>();
    const labelled = edges.map((e) => {
      const index = (order.get(e.target) ?? 0) + 1;
      order.set(e.target, index);
      const many = (inputCounts.get(e.target) ?? 0) > 1;
      return { ...e, ...(many && { label: String(index) }), ...(erroredEdges.has(e.id) && { style: { stroke: "var(--danger)", strokeWidth: 2 }, animated: true }) };
    });
    return [...labelled, ...unfolded.edges];
  }, [edges, unfolded.edges, erroredEdges, inputCounts]);

  const selected = nodes.filter((n): n is LayerNode => n.type === "layer" && Boolean(n.selected));
  const one = selected.length === 1 ? selected[0] : null;
  const setParams = (id: string, params: Record<string, unknown>) => change({ nodes: current.current.nodes.map((n) => (n.id === id ? { ...(n as LayerNode), data: { ...(n as LayerNode).data, params } } : n)), edges: current.current.edges });

  return (
    <EditorContext.Provider value={{ catalog: byType, summaries, error, expanded, toggleExpanded }}>
      <div className={styles.wide}>
        <div className={styles.toolbar} role="toolbar" aria-label={t("builderTools")}>
          <button type="button" onClick={undo} disabled={!history.canUndo || readOnly} title="Ctrl+Z">
            {t("undo")}
          </button>
          <button type="button" onClick={redo} disabled={!history.canRedo || readOnly} title="Ctrl+Shift+Z">
            {t("redo")}
          </button>
          <button type="button" onClick={removeSelected} disabled={readOnly} title="Delete">
            {t("delete")}
          </button>
          <button type="button" onClick={copy} title="Ctrl+C">
            {t("copy")}
          </button>
          <button type="button" onClick={paste} disabled={readOnly} title="Ctrl+V">
            {t("paste")}
          </button>
          <button type="button" onClick={() => void relayout()} title="L">
            {t("autoLayout")}
          </button>
          <button type="button" onClick={() => flow.fitView(FIT)} title="F">
            {t("zoomToFit")}
          </button>
          <span className="muted" style={{ fontSize: 12 }}>
            {t("builderHint")}
          </span>
        </div>
        <div className={styles.editor}>
          <Palette types={catalog} onDrop={dropAt} onAdd={addInMiddle} />
          <div className={styles.canvas} ref={wrapper} tabIndex={0} onKeyDown={onKeyDown} data-testid="canvas">
            <ReactFlow
              nodes={[...nodes, ...display]}
              edges={shownEdges}
              nodeTypes={nodeTypes}
              onNodesChange={onNodesChange}
              onEdgesChange={onEdgesChange}
              onConnect={onConnect}
              onNodeDragStart={() => history.record(current.current)}
              deleteKeyCode={null}
              multiSelectionKeyCode={["Shift", "Meta", "Control"]}
              nodesConnectable={!readOnly}
              nodesDraggable={!readOnly}
              minZoom={0.05}
              fitView
              fitViewOptions={FIT}
            >
              <Background gap={16} />
              <MiniMap pannable zoomable />
              <Controls showInteractive={false} />
            </ReactFlow>
          </div>
          <div className={styles.side}>
            {one ? (
              <ParamPanel nodeId={one.id} info={findType(byType, one.data.type)} params={one.data.params} error={error?.nodeId === one.id ? error : null} onChange={(p) => !readOnly && setParams(one.id, p)} />
            ) : (
              <Totals inspection={inspection} imgsz={imgsz} />
            )}
            {inspect.error && <p className="error">{errorText(inspect.error)}</p>}
            {one && <Totals inspection={inspection} imgsz={imgsz} compact />}
          </div>
        </div>
      </div>
    </EditorContext.Provider>
  );
}

/** The model builder: palette, canvas, parameter form and live analysis. */
export function GraphBuilder(props: BuilderProps) {
  return (
    <ReactFlowProvider>
      <Canvas {...props} />
    </ReactFlowProvider>
  );
}
