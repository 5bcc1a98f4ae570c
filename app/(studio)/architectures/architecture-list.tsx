"use client";

import { useT } from "@/components/i18n";
import { formatCount } from "@/components/graph-editor/model";

export interface ArchitectureRow {
  id: number;
  name: string;
  task: string;
  summary: unknown;
  lastUsedAt: Date | string | null;
  updatedAt: Date | string;
}

/** The team's architectures: task, parameters, FLOPs, when an experiment last used each. */
export function ArchitectureList({ rows, canEdit, openId, onOpen, onDelete }: { rows: ArchitectureRow[]; canEdit: boolean; openId: number | null; onOpen(id: number): void; onDelete(row: ArchitectureRow): void }) {
  const { t } = useT();
  if (rows.length === 0) return <p className="empty">{t("noArchitectures")}</p>;
  return (
    <table>
      <thead>
        <tr>
          <th>{t("name")}</th>
          <th>{t("task")}</th>
          <th>{t("parameters")}</th>
          <th>FLOPs</th>
          <th>{t("lastUsed")}</th>
          <th />
        </tr>
      </thead>
      <tbody>
        {rows.map((a) => {
          const summary = a.summary as { totalTrainableParams?: number; totalFlops?: number; inputShape?: number[] };
          return (
            <tr key={a.id} data-testid="architecture-row" aria-current={openId === a.id ? "true" : undefined}>
              <td>
                <button type="button" className="link" onClick={() => onOpen(a.id)}>
                  {a.name}
                </button>
              </td>
              <td>{t(a.task === "detect" ? "detect" : "classify")}</td>
              <td>{summary.totalTrainableParams?.toLocaleString("en-US")}</td>
              <td title={summary.inputShape ? `[${summary.inputShape.join(", ")}]` : undefined}>{summary.totalFlops !== undefined ? formatCount(summary.totalFlops) : ""}</td>
              <td>{a.lastUsedAt ? new Date(a.lastUsedAt).toLocaleString() : t("never")}</td>
              <td>
                {canEdit && (
                  <button type="button" className="danger" onClick={() => onDelete(a)}>
                    {t("delete")}
                  </button>
                )}
              </td>
            </tr>
          );
        })}
      </tbody>
    </table>
  );
}
