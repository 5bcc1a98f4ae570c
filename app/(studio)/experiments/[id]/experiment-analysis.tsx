"use client";

import { useQuery } from "@tanstack/react-query";
import Link from "next/link";
import { useState } from "react";
import { ValidationAnalysis } from "@/components/analysis/validation-analysis";
import { useT } from "@/components/i18n";
import { useTRPC } from "@/components/trpc";

/** A run's best-epoch validation is queued as the run ends: look for it a while after. */
const EXPECT_VALIDATION_MS = 3 * 60_000;

/** The per-image results of the run's validations (its best epoch on val first), and the way to the per-image diff. */
export function ExperimentAnalysis({ experimentId, ended, finishedAt }: { experimentId: number; ended: boolean; finishedAt: Date | string | null }) {
  const { t, statusLabel } = useT();
  const trpc = useTRPC();
  const [chosen, setChosen] = useState<number | null>(null);
  const recentlyEnded = ended && finishedAt !== null && Date.now() - new Date(finishedAt).getTime() < EXPECT_VALIDATION_MS;
  const validations = useQuery({
    ...trpc.weights.validations.queryOptions({ experimentId, limit: 20 }),
    refetchInterval: (query) => {
      const rows = query.state.data ?? [];
      return rows.some((v) => v.status === "queued" || v.status === "running") || (rows.length === 0 && recentlyEnded) ? 3000 : false;
    },
  });
  const rows = validations.data ?? [];
  const completed = rows.filter((v) => v.status === "completed");
  const shown = completed.find((v) => v.id === chosen) ?? completed.find((v) => v.split === "val") ?? completed[0];
  const pending = rows.find((v) => v.status === "queued" || v.status === "running");
  const failed = rows[0]?.status === "failed" ? rows[0] : null;
  if (rows.length === 0 && !ended) return null;
  return (
    <div className="panel" data-testid="experiment-analysis">
      <h2 className="row wrap" style={{ justifyContent: "space-between" }}>
        <span>{t("perImageResults")}</span>
        <Link href={`/experiments/diff?a=${experimentId}`} style={{ fontSize: 14 }} data-testid="open-diff">
          {t("diffWith")}
        </Link>
      </h2>
      {rows.length === 0 && <p className="muted">{t("noValidation")}</p>}
      {pending && <p className="muted">{t("validationPending", { id: pending.id, status: statusLabel(pending.status) })}</p>}
      {failed && <p className="error">{failed.error}</p>}
      {completed.length > 1 && (
        <select aria-label="validation" value={shown?.id} onChange={(e) => setChosen(Number(e.target.value))}>
          {completed.map((v) => (
            <option key={v.id} value={v.id}>
              #{v.id} {t(v.split as "val" | "test")} {new Date(v.createdAt).toLocaleString()}
            </option>
          ))}
        </select>
      )}
      {shown && <ValidationAnalysis key={shown.id} validationId={shown.id} />}
    </div>
  );
}
