// The compare page's table work: which settings differ, runs grouped by a setting with mean ± std of
// their best metrics (runs that differ only by seed fall into one group), and the CSV export.

export interface CompareRun {
  id: number;
  name: string;
  model: string | null;
  status: string;
  hyperparameters: Record<string, unknown>;
  bestMetrics: Record<string, number>;
}

/** A setting as the table and the CSV show it. */
export function settingText(value: unknown): string {
  if (value === undefined || value === null) return "—";
  return typeof value === "string" ? value : JSON.stringify(value);
}

/** The settings whose values are not the same in every run (a missing value counts as a value). */
export function differingKeys(runs: CompareRun[], keys: string[]): string[] {
  return keys.filter((key) => new Set(runs.map((r) => settingText(r.hyperparameters[key]))).size > 1);
}

export interface RunGroup {
  value: string;
  runs: number[];
  /** Per best metric: mean and sample standard deviation (null with one run) over the runs that have it. */
  metrics: Record<string, { mean: number; std: number | null; n: number }>;
}

/** Runs grouped by the value of one setting, groups in the order their first run appears. */
export function groupRuns(runs: CompareRun[], key: string, metricNames: string[]): RunGroup[] {
  const groups = new Map<string, CompareRun[]>();
  for (const run of runs) {
    const value = settingText(run.hyperparameters[key]);
    groups.set(value, [...(groups.get(value) ?? []), run]);
  }
  return [...groups].map(([value, members]) => ({
    value,
    runs: members.map((r) => r.id),
    metrics: Object.fromEntries(
      metricNames.flatMap((metric) => {
        const values = members.map((r) => r.bestMetrics[metric]).filter((v): v is number => Number.isFinite(v));
        if (values.length === 0) return [];
        const mean = values.reduce((a, b) => a + b, 0) / values.length;
        const std = values.length > 1 ? Math.sqrt(values.reduce((a, v) => a + (v - mean) ** 2, 0) / (values.length - 1)) : null;
        return [[metric, { mean, std, n: values.length }]];
      }),
    ),
  }));
}

function csvCell(value: string): string {
  return /[",\n\r]/.test(value) ? `"${value.replace(/"/g, '""')}"` : value;
}

/** One row per run: id, name, model, status, each setting, each best metric (RFC 4180 quoting). */
export function compareCsv(runs: CompareRun[], keys: string[], metricNames: string[]): string {
  const header = ["id", "name", "model", "status", ...keys, ...metricNames.map((m) => `best_${m}`)];
  const rows = runs.map((r) => [String(r.id), r.name, r.model ?? "", r.status, ...keys.map((k) => (r.hyperparameters[k] === undefined ? "" : settingText(r.hyperparameters[k]))), ...metricNames.map((m) => (Number.isFinite(r.bestMetrics[m]) ? String(r.bestMetrics[m]) : ""))]);
  return [header, ...rows].map((row) => row.map(csvCell).join(",")).join("\r\n") + "\r\n";
}
