"use client";

import { useQuery } from "@tanstack/react-query";
import { useState } from "react";
import type { JudgedImage } from "@/server/analysis/predictions";
import { useT } from "../i18n";
import { errorText, useTRPC } from "../trpc";
import { ConfusionMatrix } from "./confusion-matrix";
import { ImageDialog, ImagePager } from "./image-pager";
import { JudgedImageView, OutcomeLegend } from "./judged-image";

const PAGE_SIZE = 12;

/** A validation's per-image results: the clickable confusion matrix, filters by class and outcome at a confidence, and the images, paged. */
export function ValidationAnalysis({ validationId }: { validationId: number }) {
  const { t } = useT();
  const trpc = useTRPC();
  const [conf, setConf] = useState(0.25);
  const [cell, setCell] = useState<[number, number] | null>(null);
  const [cls, setCls] = useState<number | undefined>(undefined);
  const [outcome, setOutcome] = useState<"tp" | "fp" | "fn" | undefined>(undefined);
  const [page, setPage] = useState(1);
  const [open, setOpen] = useState<JudgedImage | null>(null);
  const summary = useQuery(trpc.analysis.summary.queryOptions({ validationId }));
  const byCell = useQuery({ ...trpc.analysis.cell.queryOptions({ validationId, predicted: cell?.[0] ?? 0, actual: cell?.[1] ?? 0, conf, page, pageSize: PAGE_SIZE }), enabled: cell !== null });
  const filtered = useQuery({ ...trpc.analysis.predictions.queryOptions({ validationId, cls, outcome, conf, page, pageSize: PAGE_SIZE }), enabled: cell === null });
  const images = cell ? byCell : filtered;
  const s = summary.data;
  if (summary.error) return <p className="error" role="alert">{errorText(summary.error)}</p>;
  if (!s) return <p className="muted">…</p>;
  const label = (i: number) => (i === s.classNames.length ? t("background") : s.labels[i]);
  const detect = s.task === "detect";
  const select = (p: number, a: number) => {
    setCell(cell?.[0] === p && cell?.[1] === a ? null : [p, a]);
    setPage(1);
  };
  return (
    <div data-testid="validation-analysis">
      <p className="muted">
        {t("validationSummary", { id: s.id, split: t(s.split as "val" | "test"), images: s.images })}{" "}
        {Object.entries(s.metrics ?? {})
          .filter(([k]) => ["mAP50", "mAP50_95", "precision", "recall", "top1_acc", "top5_acc", "macro_f1"].includes(k))
          .map(([k, v]) => `${k} ${v.toFixed(3)}`)
          .join(" · ")}
      </p>
      <div className="row wrap" style={{ alignItems: "flex-start", gap: 24 }}>
        <div>
          <h3>{t("confusionMatrix")}</h3>
          <ConfusionMatrix labels={s.labels} matrix={s.matrix} selected={cell} onSelect={select} />
          {detect && <p className="muted" style={{ fontSize: 11 }}>{t("confusionRule")}</p>}
        </div>
        <div style={{ flex: 1, minWidth: 320 }}>
          <div className="row wrap" style={{ gap: 12 }}>
            {cell ? (
              <span data-testid="cell-caption">
                {t("cellImages", { predicted: label(cell[0]), actual: label(cell[1]) })}{" "}
                <button type="button" onClick={() => setCell(null)}>
                  {t("clearCell")}
                </button>
              </span>
            ) : (
              <>
                <select aria-label="class filter" value={cls ?? ""} onChange={(e) => {
                    setCls(e.target.value === "" ? undefined : Number(e.target.value));
                    setPage(1);
                  }}>
                  <option value="">{t("allClasses")}</option>
                  {s.classNames.map((name, i) => (
                    <option key={i} value={i}>
                      {name}
                    </option>
                  ))}
                </select>
                <select aria-label="outcome filter" value={outcome ?? ""} onChange={(e) => {
                    setOutcome((e.target.value || undefined) as typeof outcome);
                    setPage(1);
                  }}>
                  <option value="">{t("allOutcomes")}</option>
                  <option value="tp">{t("outcomeTp")}</option>
                  <option value="fp">{t("outcomeFp")}</option>
                  <option value="fn">{t("outcomeFn")}</option>
                </select>
              </>
            )}
            {detect && (
              <label>
                {t("confidence")} ≥{" "}
                <input type="range" min={0} max={1} step={0.05} value={conf} onChange={(e) => setConf(Number(e.target.value))} aria-label="confidence threshold" style={{ width: 100 }} /> {conf.toFixed(2)}
              </label>
            )}
          </div>
          {detect && <OutcomeLegend />}
          {images.error && <p className="error">{errorText(images.error)}</p>}
          <ImagePager page={page} pageSize={PAGE_SIZE} total={images.data?.total ?? 0} onPage={setPage} />
          <div className="row wrap" style={{ gap: 8 }} data-testid="analysis-images">
            {(images.data?.items ?? []).map((image) => (
              <button key={image.predictionId} type="button" onClick={() => setOpen(image)} style={{ padding: 2, background: "none" }} data-testid="analysis-image">
                <JudgedImageView image={image} classNames={s.classNames} task={s.task} size={150} />
              </button>
            ))}
            {images.data && images.data.items.length === 0 && <p className="empty">{t("noImages")}</p>}
          </div>
        </div>
      </div>
      {open && (
        <ImageDialog title={open.path} onClose={() => setOpen(null)}>
          {detect && <OutcomeLegend />}
          <JudgedImageView image={open} classNames={s.classNames} task={s.task} />
        </ImageDialog>
      )}
    </div>
  );
}
