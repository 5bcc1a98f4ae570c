// Undo/redo over snapshots of the graph (nodes with positions, edges); selection and drags in
// progress are not steps, a finished drag is.
import type { Edge } from "@xyflow/react";
import { useCallback, useRef, useState } from "react";
import type { EditorNode } from "./model";

export interface Snapshot {
  nodes: EditorNode[];
  edges: Edge[];
}

const LIMIT = 100;

export function useHistory() {
  const past = useRef<Snapshot[]>([]);
  const future = useRef<Snapshot[]>([]);
  const [, setVersion] = useState(0);
  const bump = () => setVersion((v) => v + 1);

  /** Call with the state before a change. */
  const record = useCallback((before: Snapshot) => {
    past.current = [...past.current.slice(-LIMIT + 1), before];
    future.current = [];
    bump();
  }, []);
  const undo = useCallback((current: Snapshot): Snapshot | null => {
    const previous = past.current.pop();
    if (!previous) return null;
    future.current.push(current);
    bump();
    return previous;
  }, []);
  const redo = useCallback((current: Snapshot): Snapshot | null => {
    const next = future.current.pop();
    if (!next) return null;
    past.current.push(current);
    bump();
    return next;
  }, []);
  const reset = useCallback(() => {
    past.current = [];
    future.current = [];
    bump();
  }, []);
  return { record, undo, redo, reset, canUndo: past.current.length > 0, canRedo: future.current.length > 0 };
}
