"use client";

import { useQuery } from "@tanstack/react-query";
import { useRouter } from "next/navigation";
import { useEffect, useState } from "react";
import { ImagePager } from "@/components/analysis/image-pager";
import { JudgedImageView, OutcomeLegend } from "@/components/analysis/judged-image";
import { useT, type MessageKey } from "@/components/i18n";
import { errorText, useTRPC } from "@/components/trpc";
import type { DiffBucket } from "@/server/analysis/schemas";
import type { DiffImage } from "@/server/analysis/diff";

type Settings = { a: string; b: string; split: "val" | "test"; conf: number };

const BUCKETS: { bucket: DiffBucket; label: MessageKey; colour: string }[] = [
  { bucket: "regressions", label: "regressions", colour: "#dc2626" },
  { bucket: "fixes", label: "fixes", colour: "#16a34a" },
  { bucket: "both_wrong", label: "bothWrong", colour: "#ea580c" },
  { bucket: "both_right", label: "bothRight", colour: "#64748b" },
];
const PAGE_SIZE = 20;

/** Two models (runs or weights entries) on the same split, image by image: what B breaks, fixes and leaves wrong, and the metric change with its interval. */
export function DiffView({ initial }: { initial: Settings }) {
  const { t } = useT();
  const trpc = useTRPC();
  const router = useRouter();
  const [settings, setSettings] = useState<Settings>(initial);
  const [bucket, setBucket] = useState<DiffBucket>("regressions");
  const [cls, setCls] = useState<number | undefined>(undefined);
  const [page, setPage] = useState(1);
  const [seed, setSeed] = useState(0);
  const [open, setOpen] = useState<DiffImage | null>(null);
  const runs = useQuery(trpc.experiments.list.queryOptions({ limit: 500 }));
  const entries = useQuery(trpc.weights.list.queryOptions({ limit: 1000 }));
  const ready = settings.a !== "" && settings.b !== "";
  const refs = { a: settings.a, b: settings.b, split: settings.split };
  const diff = useQuery({ ...trpc.analysis.diff.queryOptions({ ...refs, conf: settings.conf }), enabled: ready });
  const metric = useQuery({ ...trpc.analysis.diffMetric.queryOptions({ ...refs, seed }), enabled: ready });
  const images = useQuery({ ...trpc.analysis.diffImages.queryOptions({ ...refs, conf: settings.conf, bucket, cls, page, pageSize: PAGE_SIZE }), enabled: ready });

  useEffect(() => {
    const query = new URLSearchParams({ a: settings.a, b: settings.b, split: settings.split, conf: String(settings.conf) });
    router.replace(`/experiments/diff?${query}`, { scroll: false });
  }, [settings, router]);

  const change = (next: Partial<Settings>) => {
    setSettings((s) => ({ ...s, ...next }));
    setPage(1);
    setOpen(null);
  };
  const choose = (bucketName: DiffBucket, classIndex?: number) => {
    setBucket(bucketName);
    setCls(classIndex);
    setPage(1);
    setOpen(null);
  };
  const options = [
    ...(runs.data ?? []).map((r) => ({ value: String(r.id), label: `${t("experiments")}: ${r.name} (#${r.id})` })),
    ...(entries.data ?? []).map((w) => ({ value: `w${w.id}`, label: `${t("weights")}: ${w.name} (w${w.id})` })),
  ];
  const picker = (side: "a" | "b") => (
    <label>
      {t(side === "a" ? "modelA" : "modelB")}{" "}
      <select aria-label={`model ${side}`} value={settings[side]} onChange={(e) => change({ [side]: e.target.value })}>
        <option value="">{t("chooseModel")}</option>
        {options.map((o) => (
          <option key={o.value} value={o.value}>
            {o.label}
          </option>
        ))}
      </select>
    </label>
  );
  const d = diff.data;
  const m = metric.data;
  const f = (v: number) => v.toFixed(4);
  return (
    <>
      <h1>{t("diffModels")}</h1>
      <div className="panel row wrap" style={{ gap: 12 }}>
        {picker("a")}
        <button type="button" onClick={() => change({ a: settings.b, b: settings.a })} aria-label="swap models">
          ⇄
        </button>
        {picker("b")}
        <label>
          {t("split")}{" "}
          <select aria-label="diff split" value={settings.split} onChange={(e) => change({ split: e.target.value as "val" | "test" })}>
            <option value="val">{t("val")}</option>
            <option value="test">{t("test")}</option>
          </select>
        </label>
        <label>
          {t("confidence")} ≥ <input type="number" min={0} max={1} step={0.05} value={settings.conf} aria-label="diff confidence" onChange={(e) => change({ conf: Math.min(1, Math.max(0, Number(e.target.value))) })} style={{ width: "5em" }} />
        </label>
      </div>
      {(diff.error ?? metric.error) && <p className="error" role="alert">{errorText(diff.error ?? metric.error)}</p>}
      {d && (
        <>
          <div className="panel">
            <p className="muted">
              {t(d.task === "detect" ? "rightDetect" : "rightClassify", { conf: d.conf })} {d.unpaired > 0 && t("unpaired", { count: d.unpaired })}
            </p>
            <div className="row wrap" style={{ gap: 8 }} data-testid="diff-buckets">
              {BUCKETS.map(({ bucket: name, label, colour }) => (
                <button key={name} type="button" data-testid={`bucket-${name}`} aria-pressed={bucket === name && cls === undefined} onClick={() => choose(name)} style={{ borderColor: colour, borderWidth: bucket === name && cls === undefined ? 3 : 1 }}>
                  {t(label)}: <strong>{d.counts[name]}</strong>
                </button>
              ))}
            </div>
            {m && (
              <p data-testid="diff-metric">
                {t("metricChange", { metric: m.name, a: f(m.a), b: f(m.b), delta: (m.delta >= 0 ? "+" : "") + f(m.delta), low: f(m.ci95[0]), high: f(m.ci95[1]), resamples: m.resamples })}{" "}
                <label className="muted">
                  {t("seed")} <input type="number" min={0} value={seed} onChange={(e) => setSeed(Math.max(0, Math.floor(Number(e.target.value))))} aria-label="bootstrap seed" style={{ width: "5em" }} />
                </label>
              </p>
            )}
            <h3>{t("perClass")}</h3>
            <table data-testid="diff-per-class">
              <thead>
                <tr>
                  <th>{t("className")}</th>
                  {BUCKETS.map(({ bucket: name, label }) => (
                    <th key={name}>{t(label)}</th>
                  ))}
                </tr>
              </thead>
              <tbody>
                {d.perClass.map((row) => (
                  <tr key={row.cls}>
                    <td>{row.name}</td>
                    {BUCKETS.map(({ bucket: name }) => (
                      <td key={name}>
                        <button type="button" disabled={row[name] === 0} aria-pressed={bucket === name && cls === row.cls} onClick={() => choose(name, row.cls)} style={{ minWidth: 40 }}>
                          {row[name]}
                        </button>
                      </td>
                    ))}
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          <div className="panel">
            <h3>
              {t(BUCKETS.find((x) => x.bucket === bucket)!.label)}
              {cls !== undefined && ` · ${d.classNames[cls]}`}
            </h3>
            <ImagePager page={page} pageSize={PAGE_SIZE} total={images.data?.total ?? 0} onPage={setPage} />
            <table>
              <thead>
                <tr>
                  <th>{t("images")}</th>
                  <th>A</th>
                  <th>B</th>
                </tr>
              </thead>
              <tbody>
                {(images.data?.items ?? []).map((image) => (
                  <tr key={image.path} data-testid="diff-image-row" aria-selected={open?.path === image.path}>
                    <td>
                      <button type="button" onClick={() => setOpen(image)} style={{ background: "none", border: "none", textDecoration: "underline", cursor: "pointer", padding: 0 }}>
                        {image.path}
                      </button>
                    </td>
                    <td>{sideText(d.task, d.classNames, image.a)}</td>
                    <td>{sideText(d.task, d.classNames, image.b)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
            {images.data?.items.length === 0 && <p className="empty">{t("noImages")}</p>}
          </div>
          {open && <SideBySide diff={d} image={open} conf={settings.conf} />}
        </>
      )}
    </>
  );
}

function sideText(task: string, classNames: string[], side: DiffImage["a"]): string {
  if (task === "classify") return `${side.right ? "✓" : "✗"} ${side.predicted === null ? "—" : classNames[side.predicted]}`;
  return `${side.right ? "✓" : "✗"} TP ${side.tp} · FP ${side.fp} · FN ${side.fn}`;
}

/** Both models' judgement of one image, next to each other. */
function SideBySide({ diff, image, conf }: { diff: { a: { validationId: number; name: string; ref: string }; b: { validationId: number; name: string; ref: string }; classNames: string[]; task: string }; image: DiffImage; conf: number }) {
  const { t } = useT();
  const trpc = useTRPC();
  const a = useQuery(trpc.analysis.image.queryOptions({ validationId: diff.a.validationId, predictionId: image.a.predictionId, conf }));
  const b = useQuery(trpc.analysis.image.queryOptions({ validationId: diff.b.validationId, predictionId: image.b.predictionId, conf }));
  return (
    <div className="panel" data-testid="side-by-side">
      <h3>
        {t("sideBySide")}: {image.path}
      </h3>
      {diff.task === "detect" && <OutcomeLegend />}
      <div className="row wrap" style={{ gap: 16, alignItems: "flex-start" }}>
        {[
          { side: diff.a, query: a, label: "A" },
          { side: diff.b, query: b, label: "B" },
        ].map(({ side, query, label }) => (
          <div key={label} style={{ flex: "1 1 320px", maxWidth: 640 }} data-testid={`side-${label.toLowerCase()}`}>
            <h4>
              {label}: {side.name} <span className="muted">({side.ref})</span>
            </h4>
            {query.error && <p className="error">{errorText(query.error)}</p>}
            {query.data && <JudgedImageView image={query.data} classNames={diff.classNames} task={diff.task} />}
          </div>
        ))}
      </div>
    </div>
  );
}
