"use client";

import { useMutation, useQuery } from "@tanstack/react-query";
import { useRouter } from "next/navigation";
import { useEffect, useState, type FormEvent } from "react";
import { useT } from "@/components/i18n";
import { errorText, useTRPC } from "@/components/trpc";

type Hyper = Record<string, unknown>;

type Task = "classify" | "detect";

/**
 * Hyper-parameters the form shows as fields (those with a task only for models of that task); the
 * rest keep the engine's defaults (or the template's). Kind "auto": the word auto or an integer.
 */
const FIELDS: { key: string; kind: "int" | "float" | "bool" | "choice" | "auto"; choices?: string[]; task?: Task; hint?: "autoBatchHint" }[] = [
  { key: "epochs", kind: "int" },
  { key: "batch", kind: "int", hint: "autoBatchHint" },
  { key: "imgsz", kind: "int" },
  { key: "optimizer", kind: "choice", choices: ["auto", "SGD", "Adam", "AdamW", "RMSProp"] },
  { key: "lr0", kind: "float" },
  { key: "lrf", kind: "float" },
  { key: "momentum", kind: "float" },
  { key: "weight_decay", kind: "float" },
  { key: "warmup_epochs", kind: "float" },
  { key: "patience", kind: "int" },
  { key: "label_smoothing", kind: "float" },
  { key: "seed", kind: "int" },
  { key: "cos_lr", kind: "bool" },
  { key: "mosaic", kind: "float", task: "detect" },
  { key: "close_mosaic", kind: "int", task: "detect" },
  { key: "workers", kind: "auto" },
  { key: "micro_batch", kind: "auto" },
];

/** The engine's input size per task (Ultralytics' defaults are 224 and 640; small images train fast on a CPU). */
const DEFAULT_IMGSZ: Record<Task, number> = { classify: 64, detect: 640 };

/** A run's own split in percent; off = the dataset's split. */
interface SplitForm {
  own: boolean;
  train: number;
  val: number;
  test: number;
}

export function NewExperimentForm({ architectureId, projectId: initialProjectId }: { architectureId?: number; projectId?: number } = {}) {
  const { t } = useT();
  const trpc = useTRPC();
  const router = useRouter();
  const projects = useQuery(trpc.projects.list.queryOptions());
  const [projectId, setProjectId] = useState<number | null>(initialProjectId ?? null);
  const scoped = projectId ? { projectId } : {};
  const datasets = useQuery({ ...trpc.datasets.list.queryOptions(scoped), enabled: projectId !== null });
  const architectures = useQuery({ ...trpc.architectures.list.queryOptions(scoped), enabled: projectId !== null });
  const augmentations = useQuery({ ...trpc.augmentations.list.queryOptions(scoped), enabled: projectId !== null });
  const templates = useQuery({ ...trpc.trainingConfigs.list.queryOptions(scoped), enabled: projectId !== null });
  const library = useQuery({ ...trpc.weights.list.queryOptions(scoped), enabled: projectId !== null });
  const options = useQuery(trpc.experiments.formOptions.queryOptions());
  const devices = useQuery(trpc.system.devices.queryOptions());
  const create = useMutation(trpc.experiments.create.mutationOptions({ onSuccess: (e) => router.push(`/experiments/${e.id}`) }));
  const saveTemplate = useMutation(trpc.trainingConfigs.save.mutationOptions({ onSuccess: () => void templates.refetch() }));

  const [hyper, setHyper] = useState<Hyper>({});
  const [modelChoice, setModelChoice] = useState(architectureId ? `arch:${architectureId}` : "zoo:reference-cnn");
  const [device, setDevice] = useState("auto");
  const [split, setSplit] = useState<SplitForm>({ own: false, train: 80, val: 20, test: 0 });
  const [datasetId, setDatasetId] = useState("");
  const [weightsId, setWeightsId] = useState("");
  const [modelKind, modelValue] = modelChoice.split(":");
  const task: Task =
    (modelKind === "zoo" ? options.data?.zoo.find((m) => m.name === modelValue)?.task : architectures.data?.find((a) => String(a.id) === modelValue)?.task) === "detect"
      ? "detect"
      : "classify";
  // Another task's default size follows the model; a size the user or a template chose stays.
  useEffect(() => {
    setHyper((h) => (Object.values(DEFAULT_IMGSZ).includes(h.imgsz as number) ? { ...h, imgsz: DEFAULT_IMGSZ[task] } : h));
  }, [task]);
  useEffect(() => {
    if (projectId === null && projects.data?.length) setProjectId(projects.data.find((p) => p.name === "default")?.id ?? projects.data[0].id);
  }, [projectId, projects.data]);
  useEffect(() => {
    if (options.data && Object.keys(hyper).length === 0) setHyper({ ...options.data.defaults, imgsz: DEFAULT_IMGSZ[task], epochs: 10 });
  }, [options.data, hyper, task]);

  function setField(key: string, kind: string, raw: string | boolean) {
    const value =
      kind === "bool" ? Boolean(raw) : kind === "choice" ? raw : raw === "" ? undefined : kind === "auto" && String(raw).trim() === "auto" ? "auto" : Number(raw);
    setHyper((h) => ({ ...h, [key]: value }));
  }

  function submit(e: FormEvent<HTMLFormElement>) {
    e.preventDefault();
    const data = new FormData(e.currentTarget);
    const augmentation = String(data.get("augmentation") ?? "");
    const [kind, value] = modelChoice.split(":");
    const shown = new Set(FIELDS.filter((f) => f.task && f.task !== task).map((f) => f.key));
    const hyperparameters = {
      ...Object.fromEntries(Object.entries(hyper).filter(([k, v]) => v !== undefined && v !== "" && !shown.has(k))),
      ...(weightsId && { weights: Number(weightsId) }),
    };
    create.mutate({
      projectId: projectId!,
      name: String(data.get("name")),
      datasetId: Number(data.get("dataset")),
      ...(kind === "zoo" ? { model: value } : { architectureId: Number(value) }),
      augmentationId: augmentation ? Number(augmentation) : null,
      hyperparameters,
      device,
      ...(split.own && { splitRatios: { train: split.train / 100, val: split.val / 100, test: split.test / 100 } }),
      start: true,
    });
  }

  const error = create.error ?? saveTemplate.error ?? projects.error ?? datasets.error ?? options.error ?? devices.error;
  const readyDatasets = datasets.data?.filter((d) => d.status === "ready") ?? [];
  const datasetTask = readyDatasets.find((d) => String(d.id) === datasetId)?.task ?? readyDatasets[0]?.task;
  // Weights to start from: ready, for the dataset's task (or a file that names none); not ONNX, which cannot train.
  const startingPoints = library.data?.filter((w) => w.status === "ready" && w.format !== "onnx" && (w.task === null || w.task === datasetTask)) ?? [];
  /** Picking weights picks the network they are for. */
  function chooseWeights(id: string) {
    setWeightsId(id);
    const entry = startingPoints.find((w) => String(w.id) === id);
    if (entry?.model) setModelChoice(`zoo:${entry.model}`);
    else if (entry?.architectureId) setModelChoice(`arch:${entry.architectureId}`);
  }
  return (
    <>
      <h1>{t("newExperiment")}</h1>
      {error && <p className="error" role="alert">{errorText(error)}</p>}
      <form className="panel form-grid" onSubmit={submit} aria-label={t("newExperiment")}>
        <label>
          {t("projects")}
          <select aria-label="project" value={projectId ?? ""} onChange={(e) => setProjectId(Number(e.target.value))}>
            {projects.data?.map((p) => (
              <option key={p.id} value={p.id}>
                {p.name}
              </option>
            ))}
          </select>
        </label>
        <label>
          {t("name")}
          <input name="name" required aria-label="experiment name" />
        </label>
        <label>
          {t("dataset")}
          <select name="dataset" required aria-label="dataset" value={datasetId} onChange={(e) => setDatasetId(e.target.value)}>
            {readyDatasets.map((d) => (
              <option key={d.id} value={d.id}>
                {d.name} ({d.task}, {d.classes.length} classes)
              </option>
            ))}
          </select>
          {datasets.data && readyDatasets.length === 0 && <span className="muted">No ready dataset in this project: import one first.</span>}
        </label>
        <label>
          {t("model")}
          <select aria-label="model" value={modelChoice} onChange={(e) => setModelChoice(e.target.value)}>
            <optgroup label="zoo">
              {options.data?.zoo.map((m) => (
                <option key={m.name} value={`zoo:${m.name}`} title={m.description}>
                  {m.name} ({m.task})
                </option>
              ))}
            </optgroup>
            <optgroup label={t("architectures")}>
              {architectures.data?.map((a) => (
                <option key={a.id} value={`arch:${a.id}`}>
                  {a.name} ({a.task})
                </option>
              ))}
            </optgroup>
          </select>
        </label>
        <label>
          {t("startFrom")}
          <select aria-label="weights" value={weightsId} onChange={(e) => chooseWeights(e.target.value)}>
            <option value="">{t("fromScratch")}</option>
            {startingPoints.map((w) => (
              <option key={w.id} value={w.id}>
                {w.name} ({w.format}{w.model ? `, ${w.model}` : w.architectureName ? `, ${w.architectureName}` : ""}{w.classNames.length ? `, ${w.classNames.length} classes` : ""})
              </option>
            ))}
          </select>
        </label>
        <label>
          {t("augmentation")}
          <select name="augmentation" aria-label="augmentation">
            <option value="">none</option>
            {augmentations.data?.map((a) => (
              <option key={a.id} value={a.id}>
                {a.name}
              </option>
            ))}
          </select>
        </label>
        <label>
          {t("device")}
          <select name="device" aria-label="device" value={device} onChange={(e) => setDevice(e.target.value)}>
            {devices.data?.map((d) => (
              <option key={d.device} value={d.device} title={d.hosts.join(", ")}>
                {d.device} — {d.description}
              </option>
            ))}
          </select>
          {devices.data && devices.data.length === 1 && <span className="muted">No training worker is running: the run waits in the queue.</span>}
        </label>
        <label>
          {t("configTemplate")}
          <select
            aria-label="config template"
            defaultValue=""
            onChange={(e) => {
              const template = templates.data?.find((c) => c.id === Number(e.target.value));
              if (!template) return;
              setHyper((h) => ({ ...h, ...template.hyperparameters }));
              if (template.model) setModelChoice(`zoo:${template.model}`);
              if (template.architectureId) setModelChoice(`arch:${template.architectureId}`);
              if (template.device) setDevice(template.device);
            }}
          >
            <option value="">—</option>
            {templates.data?.map((c) => (
              <option key={c.id} value={c.id}>
                {c.name}
              </option>
            ))}
          </select>
        </label>
        <fieldset className="row wrap">
          <legend>{t("hyperparameters")}</legend>
          {FIELDS.filter((f) => !f.task || f.task === task).map((f) => (
            <label key={f.key} title={f.hint ? t(f.hint) : undefined}>
              {f.key}
              {f.kind === "auto" ? (
                <input
                  aria-label={f.key}
                  value={hyper[f.key] === undefined ? "" : String(hyper[f.key])}
                  onChange={(e) => setField(f.key, f.kind, e.target.value)}
                  placeholder="auto"
                  style={{ width: "5em" }}
                />
              ) : f.kind === "bool" ? (
                <input type="checkbox" aria-label={f.key} checked={Boolean(hyper[f.key])} onChange={(e) => setField(f.key, f.kind, e.target.checked)} />
              ) : f.kind === "choice" ? (
                <select aria-label={f.key} value={String(hyper[f.key] ?? "")} onChange={(e) => setField(f.key, f.kind, e.target.value)}>
                  {f.choices!.map((c) => (
                    <option key={c}>{c}</option>
                  ))}
                </select>
              ) : (
                <input
                  aria-label={f.key}
                  type="number"
                  step={f.kind === "int" ? 1 : "any"}
                  placeholder={f.hint ? "-1 = auto" : undefined}
                  value={hyper[f.key] === undefined ? "" : String(hyper[f.key])}
                  onChange={(e) => setField(f.key, f.kind, e.target.value)}
                  style={{ width: "7em" }}
                />
              )}
            </label>
          ))}
        </fieldset>
        <fieldset className="row wrap">
          <legend>{t("split")}</legend>
          <label>
            <input type="checkbox" aria-label="own split" checked={split.own} onChange={(e) => setSplit((s) => ({ ...s, own: e.target.checked }))} />
            {t("ownSplit")}
          </label>
          {(["train", "val", "test"] as const).map((part) => (
            <label key={part}>
              {part} %
              <input
                aria-label={`${part} percent`}
                type="number"
                min={0}
                max={100}
                disabled={!split.own}
                value={split[part]}
                onChange={(e) => setSplit((s) => ({ ...s, [part]: Number(e.target.value) }))}
                style={{ width: "5em" }}
              />
            </label>
          ))}
          {split.own && split.train + split.val + split.test !== 100 && <span className="error">train + val + test must be 100%</span>}
        </fieldset>
        <div className="row">
          <button className="primary" type="submit" data-testid="create-experiment" disabled={create.isPending || !projectId}>
            {t("create")} & {t("start")}
          </button>
          <button
            type="button"
            disabled={!projectId}
            onClick={() => {
              const name = window.prompt(t("saveAsTemplate"));
              if (!name) return;
              const [kind, value] = modelChoice.split(":");
              saveTemplate.mutate({ projectId: projectId!, name, hyperparameters: hyper, device, ...(kind === "zoo" ? { model: value } : { architectureId: Number(value) }) });
            }}
          >
            {t("saveAsTemplate")}
          </button>
        </div>
      </form>
    </>
  );
}
