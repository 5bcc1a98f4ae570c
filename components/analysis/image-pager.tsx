"use client";

import type { ReactNode } from "react";
import { useT } from "../i18n";

export function ImagePager({ page, pageSize, total, onPage }: { page: number; pageSize: number; total: number; onPage: (page: number) => void }) {
  const { t } = useT();
  const pages = Math.max(1, Math.ceil(total / pageSize));
  return (
    <p className="row wrap" style={{ gap: 8 }} data-testid="image-pager">
      <button type="button" disabled={page <= 1} onClick={() => onPage(page - 1)}>
        {t("prevPage")}
      </button>
      <span className="muted">{t("pageOf", { page, pages, total })}</span>
      <button type="button" disabled={page >= pages} onClick={() => onPage(page + 1)}>
        {t("nextPage")}
      </button>
    </p>
  );
}

/** A panel over the page, closed by its button or a click outside. */
export function ImageDialog({ title, onClose, children }: { title: string; onClose: () => void; children: ReactNode }) {
  const { t } = useT();
  return (
    <div role="dialog" aria-label={title} onClick={onClose} style={{ position: "fixed", inset: 0, background: "rgba(0,0,0,.6)", display: "grid", placeItems: "center", zIndex: 10 }}>
      <div className="panel" onClick={(e) => e.stopPropagation()} style={{ maxWidth: "96vw", maxHeight: "96vh", overflow: "auto" }}>
        {children}
        <p>
          <button type="button" onClick={onClose}>
            {t("cancel")}
          </button>
        </p>
      </div>
    </div>
  );
}
