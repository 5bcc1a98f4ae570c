"use client";

import { useMutation, useQuery } from "@tanstack/react-query";
import { useState } from "react";
import { useT } from "@/components/i18n";
import { errorText, useTRPC } from "@/components/trpc";
import type { StoredGraph } from "@/components/graph-editor/model";

export interface Opened {
  name: string;
  task: "classify" | "detect";
  graph: StoredGraph;
  warnings: string[];
}

/** Start from a zoo template (yolov8 with its n–x switch) or from an Ultralytics model YAML (file or pasted). */
export function OpenMenu({ onOpen }: { onOpen(opened: Opened): void }) {
  const { t } = useT();
  const trpc = useTRPC();
  const templates = useQuery(trpc.architectures.templates.queryOptions());
  const [choice, setChoice] = useState("reference-cnn");
  const [scale, setScale] = useState("n");
  const [classes, setClasses] = useState(80);
  const chosen = templates.data?.find((x) => x.name === choice);
  const template = useQuery({ ...trpc.architectures.template.queryOptions({ name: choice, scale: chosen?.scales ? scale : undefined, numClasses: classes }), enabled: false });
  const [yamlText, setYamlText] = useState("");
  const [fileName, setFileName] = useState<string | undefined>();
  const [yamlScale, setYamlScale] = useState("");
  const parse = useMutation(trpc.architectures.parseYaml.mutationOptions());

  async function openTemplate() {
    const { data } = await template.refetch();
    if (data && chosen) onOpen({ name: chosen.scales ? `${choice}${scale}` : choice, task: chosen.task, graph: data as StoredGraph, warnings: [] });
  }
  async function importYaml() {
    const result = await parse.mutateAsync({ yaml: yamlText, fileName, scale: yamlScale || undefined });
    const stem = (fileName ?? "model.yaml").replace(/\.ya?ml$/i, "");
    onOpen({ name: result.scale && !/[nslmx]$/.test(stem) ? `${stem}${result.scale}` : stem, task: result.task, graph: result.graph as StoredGraph, warnings: result.warnings });
  }
  return (
    <div className="row wrap" style={{ alignItems: "flex-start", gap: 16 }}>
      <fieldset className="row" style={{ border: "1px solid var(--line)", borderRadius: 8 }}>
        <legend>{t("templates")}</legend>
        <select aria-label={t("templates")} value={choice} onChange={(e) => setChoice(e.target.value)}>
          {templates.data?.map((x) => (
            <option key={x.name} value={x.name} title={x.description}>
              {x.name}
            </option>
          ))}
        </select>
        {chosen?.scales && (
          <select aria-label={t("scale")} value={scale} onChange={(e) => setScale(e.target.value)}>
            {chosen.scales.map((s) => (
              <option key={s} value={s}>
                {s}
              </option>
            ))}
          </select>
        )}
        <label>
          {t("classes")} <input type="number" min={1} value={classes} onChange={(e) => setClasses(Math.max(1, Number(e.target.value) || 1))} style={{ width: "5em" }} aria-label={t("classes")} />
        </label>
        <button type="button" onClick={() => void openTemplate()}>
          {t("openTemplate")}
        </button>
        {template.error && <span className="error">{errorText(template.error)}</span>}
      </fieldset>
      <fieldset style={{ border: "1px solid var(--line)", borderRadius: 8, flex: 1, minWidth: 320 }}>
        <legend>{t("ultralyticsYaml")}</legend>
        <div className="row">
          <input
            type="file"
            accept=".yaml,.yml"
            aria-label={t("yamlFile")}
            onChange={async (e) => {
              const file = e.target.files?.[0];
              if (!file) return;
              setFileName(file.name);
              setYamlText(await file.text());
            }}
          />
          <select aria-label={t("scale")} value={yamlScale} onChange={(e) => setYamlScale(e.target.value)}>
            <option value="">{t("scaleFromFile")}</option>
            {["n", "s", "m", "l", "x"].map((s) => (
              <option key={s} value={s}>
                {s}
              </option>
            ))}
          </select>
          <button type="button" disabled={!yamlText.trim() || parse.isPending} onClick={() => void importYaml().catch(() => {})}>
            {t("importYaml")}
          </button>
        </div>
        <textarea aria-label={t("yamlText")} placeholder={t("pasteYaml")} value={yamlText} onChange={(e) => setYamlText(e.target.value)} rows={4} style={{ width: "100%", fontFamily: "monospace", marginTop: 6 }} />
        {parse.error && (
          <p className="error" role="alert" data-testid="yaml-error">
            {errorText(parse.error)}
          </p>
        )}
      </fieldset>
    </div>
  );
}
