/** Display helpers shared by the experiment pages. */
export function formatMetric(value: number | undefined): string {
  if (value === undefined || !Number.isFinite(value)) return "—";
  return Math.abs(value) >= 100 ? value.toFixed(0) : value.toFixed(4);
}

export function formatDuration(seconds: number | null): string {
  if (seconds === null) return "—";
  const s = Math.max(0, Math.round(seconds));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  return h > 0 ? `${h}h ${m}m` : m > 0 ? `${m}m ${s % 60}s` : `${s}s`;
}

/** The metric that ranks a run: validation accuracy for classifiers, mAP50-95 for detectors. */
export function headlineMetric(task: string): string {
  return task === "detect" ? "mAP50_95" : "val_acc";
}
