"use client";

import { useT } from "../i18n";

/**
 * A confusion matrix as Ultralytics draws it — predicted down the rows, true along the columns, colour by
 * each true class's share — where every non-empty cell is a button that opens its images.
 */
export function ConfusionMatrix({ labels, matrix, selected, onSelect }: { labels: string[]; matrix: number[][]; selected: [number, number] | null; onSelect: (predicted: number, actual: number) => void }) {
  const { t } = useT();
  const columnTotals = labels.map((_, a) => matrix.reduce((sum, row) => sum + row[a], 0));
  const shown = (label: string, i: number) => (i === labels.length - 1 && label === "background" ? t("background") : label);
  return (
    <div style={{ overflowX: "auto" }}>
      <table className="confusion" data-testid="confusion-matrix" style={{ borderCollapse: "collapse", fontSize: 12 }}>
        <thead>
          <tr>
            <th className="muted" style={{ textAlign: "left" }}>
              {t("predictedAxis")} \ {t("trueAxis")}
            </th>
            {labels.map((label, a) => (
              <th key={a} scope="col" style={{ padding: "2px 6px", maxWidth: 90, overflow: "hidden", textOverflow: "ellipsis" }} title={label}>
                {shown(label, a)}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {matrix.map((row, p) => (
            <tr key={p}>
              <th scope="row" style={{ textAlign: "right", padding: "2px 6px" }} title={labels[p]}>
                {shown(labels[p], p)}
              </th>
              {row.map((count, a) => {
                const share = columnTotals[a] > 0 ? count / columnTotals[a] : 0;
                const isSelected = selected?.[0] === p && selected?.[1] === a;
                return (
                  <td key={a} style={{ padding: 0, border: "1px solid var(--line)" }}>
                    <button
                      type="button"
                      data-testid="confusion-cell"
                      data-predicted={p}
                      data-actual={a}
                      disabled={count === 0}
                      onClick={() => onSelect(p, a)}
                      aria-pressed={isSelected}
                      title={`${t("predLabel")} ${shown(labels[p], p)}, ${t("trueLabel")} ${shown(labels[a], a)}: ${count}`}
                      style={{
                        minWidth: 40,
                        height: 32,
                        border: isSelected ? "2px solid var(--text)" : "none",
                        background: `rgba(37, 99, 235, ${0.08 + 0.82 * share})`,
                        color: share > 0.5 ? "#fff" : "var(--text)",
                        fontWeight: p === a ? 700 : 400,
                        cursor: count === 0 ? "default" : "pointer",
                      }}
                    >
                      {count}
                    </button>
                  </td>
                );
              })}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
