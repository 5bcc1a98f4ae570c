"use client";

import { ValidationAnalysis } from "@/components/analysis/validation-analysis";
import { useT } from "@/components/i18n";

/** One validation's per-image results (a weights entry's, or a run's), on a page of their own. */
export function ValidationPage({ id }: { id: number }) {
  const { t } = useT();
  return (
    <>
      <h1>
        {t("perImageResults")} <span className="muted">#{id}</span>
      </h1>
      <div className="panel">
        <ValidationAnalysis validationId={id} />
      </div>
    </>
  );
}
