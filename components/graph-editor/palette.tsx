"use client";

import { useState, type PointerEvent as ReactPointerEvent } from "react";
import { useT, type MessageKey } from "@/components/i18n";
import type { NodeTypeInfo } from "./context";
import styles from "./graph-editor.module.css";

/** The engine's categories in reading order; a type in a category not listed here goes last. */
const ORDER = ["input", "convolution", "block", "normalization", "activation", "pooling", "merge", "shape", "linear", "regularization", "head"];

/**
 * Every node type of the engine, grouped and searchable. Dragging uses pointer events (not HTML
 * drag and drop), so it works the same with a mouse, a pen or a finger; Enter or a double click
 * adds the type in the middle of the canvas.
 */
export function Palette({ types, onDrop, onAdd }: { types: NodeTypeInfo[]; onDrop(type: string, x: number, y: number): void; onAdd(type: string): void }) {
  const { t } = useT();
  const [query, setQuery] = useState("");
  const [drag, setDrag] = useState<{ type: string; x: number; y: number } | null>(null);
  const q = query.trim().toLowerCase();
  const shown = types.filter((info) => !q || [info.type, ...info.aliases, info.description].some((s) => s.toLowerCase().includes(q)));
  const groups = [...new Set(shown.map((i) => i.category))].sort((a, b) => (ORDER.indexOf(a) + 100) % 100 - (ORDER.indexOf(b) + 100) % 100);

  function start(type: string, event: ReactPointerEvent<HTMLDivElement>) {
    if (event.button !== 0) return;
    event.preventDefault();
    setDrag({ type, x: event.clientX, y: event.clientY });
    const move = (e: PointerEvent) => setDrag({ type, x: e.clientX, y: e.clientY });
    const up = (e: PointerEvent) => {
      window.removeEventListener("pointermove", move);
      window.removeEventListener("pointerup", up);
      setDrag(null);
      onDrop(type, e.clientX, e.clientY);
    };
    window.addEventListener("pointermove", move);
    window.addEventListener("pointerup", up);
  }

  return (
    <div className={styles.palette} aria-label={t("layerPalette")}>
      <input type="search" aria-label={t("searchLayers")} placeholder={t("searchLayers")} value={query} onChange={(e) => setQuery(e.target.value)} style={{ width: "100%" }} />
      {groups.map((group) => (
        <div key={group}>
          <div className={styles.paletteGroup}>{ORDER.includes(group) ? t(`cat${group[0].toUpperCase()}${group.slice(1)}` as MessageKey) : group}</div>
          {shown
            .filter((i) => i.category === group)
            .map((info) => (
              <div
                key={info.type}
                role="button"
                tabIndex={0}
                className={styles.paletteItem}
                title={info.description}
                data-testid={`palette-${info.type}`}
                onPointerDown={(e) => start(info.type, e)}
                onDoubleClick={() => onAdd(info.type)}
                onKeyDown={(e) => e.key === "Enter" && onAdd(info.type)}
              >
                {info.type}
              </div>
            ))}
        </div>
      ))}
      {drag && (
        <div className={styles.ghost} style={{ left: drag.x, top: drag.y }}>
          {drag.type}
        </div>
      )}
    </div>
  );
}
