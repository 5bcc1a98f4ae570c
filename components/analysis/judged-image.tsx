"use client";

import type { JudgedImage } from "@/server/analysis/predictions";
import { useT } from "../i18n";

/** TP / FP / FN styles: predictions solid (green found, red false), missed objects dashed orange, found objects dotted grey. */
export const OUTCOME_STYLE = {
  tp: { stroke: "#16a34a", dash: undefined },
  fp: { stroke: "#dc2626", dash: undefined },
  fn: { stroke: "#f59e0b", dash: "6 3" },
  gt: { stroke: "#64748b", dash: "2 2" },
} as const;

const imageUrl = (image: JudgedImage, thumb: boolean) => (image.datasetId !== null && image.datasetItemId !== null ? `/api/datasets/${image.datasetId}/images/${image.datasetItemId}${thumb ? "?thumb=1" : ""}` : null);

/** The legend of the box styles. */
export function OutcomeLegend() {
  const { t } = useT();
  const swatch = (style: (typeof OUTCOME_STYLE)[keyof typeof OUTCOME_STYLE]) => (
    <svg width="22" height="12" aria-hidden>
      <rect x="1" y="1" width="20" height="10" fill="none" stroke={style.stroke} strokeWidth="2" strokeDasharray={style.dash} />
    </svg>
  );
  return (
    <p className="row wrap muted" style={{ fontSize: 12, gap: 12 }} data-testid="outcome-legend">
      <span>
        {swatch(OUTCOME_STYLE.tp)} {t("legendTp")}
      </span>
      <span>
        {swatch(OUTCOME_STYLE.fp)} {t("legendFp")}
      </span>
      <span>
        {swatch(OUTCOME_STYLE.fn)} {t("legendFn")}
      </span>
      <span>
        {swatch(OUTCOME_STYLE.gt)} {t("legendGt")}
      </span>
    </p>
  );
}

/**
 * One validated image with its judgement drawn on it: detection boxes in their outcome's style (names and
 * scores at full size), or classification's true class, top-1 and, at full size, the top-5.
 */
export function JudgedImageView({ image, classNames, task, size }: { image: JudgedImage; classNames: string[]; task: string; size?: number }) {
  const { t } = useT();
  const name = (cls: number) => (cls === classNames.length ? t("background") : (classNames[cls] ?? String(cls)));
  const src = imageUrl(image, size !== undefined && size <= 160);
  const full = size === undefined;
  const width = Math.max(1, image.width);
  const height = Math.max(1, image.height);
  const classify = task === "classify";
  const border = classify ? (image.correct ? OUTCOME_STYLE.tp.stroke : OUTCOME_STYLE.fp.stroke) : "transparent";
  const stroke = Math.max(1, Math.round(Math.max(width, height) / (full ? 300 : 120)));
  return (
    <figure style={{ margin: 0, display: "inline-block", maxWidth: size ?? "100%" }} data-testid="judged-image" data-path={image.path}>
      <div style={{ position: "relative", lineHeight: 0, border: `3px solid ${border}` }}>
        {src ? (
          <img src={src} alt={image.path} style={{ maxWidth: size ?? "100%", maxHeight: size ?? "70vh", display: "block", width: full ? undefined : size, aspectRatio: `${width} / ${height}`, objectFit: "fill" }} />
        ) : (
          <div className="muted" style={{ width: size ?? 320, aspectRatio: `${width} / ${height}`, display: "grid", placeItems: "center", lineHeight: 1.4 }}>
            {t("imageGone")}
          </div>
        )}
        <svg viewBox={`0 0 ${width} ${height}`} preserveAspectRatio="none" style={{ position: "absolute", inset: 0, width: "100%", height: "100%", pointerEvents: "none" }}>
          {image.truths.map((truth, i) => {
            const style = truth.found ? OUTCOME_STYLE.gt : OUTCOME_STYLE.fn;
            const [x1, y1, x2, y2] = truth.box;
            return (
              <rect key={`t${i}`} data-outcome={truth.found ? "gt" : "fn"} x={x1} y={y1} width={x2 - x1} height={y2 - y1} fill="none" stroke={style.stroke} strokeWidth={stroke} strokeDasharray={style.dash?.split(" ").map((v) => Number(v) * stroke).join(" ")}>
                <title>{`${name(truth.cls)} (${truth.found ? t("legendGt") : "FN"})`}</title>
              </rect>
            );
          })}
          {image.boxes.map((b, i) => {
            const [x1, y1, x2, y2] = b.box;
            return (
              <rect key={`b${i}`} data-outcome={b.outcome} x={x1} y={y1} width={x2 - x1} height={y2 - y1} fill="none" stroke={OUTCOME_STYLE[b.outcome].stroke} strokeWidth={stroke}>
                <title>{`${name(b.cls)} ${b.confidence.toFixed(2)} ${b.outcome.toUpperCase()}${b.iou !== null ? ` IoU ${b.iou.toFixed(2)}` : ""}`}</title>
              </rect>
            );
          })}
        </svg>
        {full &&
          image.boxes.map((b, i) => (
            <span
              key={i}
              data-testid="judged-box-label"
              style={{
                position: "absolute",
                left: `${(b.box[0] / width) * 100}%`,
                top: `${(b.box[1] / height) * 100}%`,
                transform: "translateY(-100%)",
                background: OUTCOME_STYLE[b.outcome].stroke,
                color: "#fff",
                font: "11px/1.4 sans-serif",
                padding: "0 3px",
                whiteSpace: "nowrap",
              }}
            >
              {name(b.cls)} {b.confidence.toFixed(2)}
            </span>
          ))}
      </div>
      <figcaption style={{ fontSize: 11, lineHeight: "15px", maxWidth: size ?? 640, overflow: "hidden", textOverflow: "ellipsis", whiteSpace: full ? "normal" : "nowrap" }}>
        <span className="muted">{image.path}</span>
        {classify && (
          <span data-testid="judged-label">
            {" "}
            {t("trueLabel")}: <strong>{image.label === null ? "—" : name(image.label)}</strong> · {t("predLabel")}: <strong style={{ color: border }}>{image.top[0] ? `${name(image.top[0].cls)} ${image.top[0].score.toFixed(2)}` : "—"}</strong>
          </span>
        )}
        {!classify && (
          <span>
            {" "}
            TP {image.boxes.filter((b) => b.outcome === "tp").length} · FP {image.boxes.filter((b) => b.outcome === "fp").length} · FN {image.truths.filter((x) => !x.found).length}
          </span>
        )}
        {full && classify && (
          <ol style={{ margin: "4px 0", paddingLeft: 18 }}>
            {image.top.map((top) => (
              <li key={top.cls}>
                {name(top.cls)} {top.score.toFixed(3)}
              </li>
            ))}
          </ol>
        )}
      </figcaption>
    </figure>
  );
}
