import type { ChartSeries } from "@/components/line-chart";

export interface Point {
  epoch: number;
  step: number;
  values: Record<string, number>;
}

const QUALITY = ["train_acc", "val_acc", "macro_f1", "micro_f1", "top1_acc", "precision", "recall", "mAP50", "mAP50_95"];

/** Loss curves: per-epoch train/validation losses, plus the running loss of the steps between (named `stepLossName`). */
export function lossSeries(points: Point[], stepLossName: string): ChartSeries[] {
  const epochs = points.filter((p) => p.step === 0);
  const steps = points.filter((p) => p.step > 0);
  const stepsPerEpoch = new Map<number, number>();
  for (const p of steps) stepsPerEpoch.set(p.epoch, Math.max(stepsPerEpoch.get(p.epoch) ?? 0, p.step));
  const lossKeys = [...new Set(epochs.flatMap((p) => Object.keys(p.values).filter((k) => k.endsWith("loss"))))].sort();
  const series: ChartSeries[] = lossKeys.map((key) => ({ name: key, points: epochs.filter((p) => key in p.values).map((p) => ({ x: p.epoch, y: p.values[key] })) }));
  if (steps.length > 0) {
    series.push({ name: stepLossName, points: steps.map((p) => ({ x: p.epoch - 1 + p.step / (stepsPerEpoch.get(p.epoch) ?? p.step), y: p.values.loss })) });
  }
  return series;
}

/** Quality metrics per epoch, one series each. */
export function metricSeries(points: Point[]): ChartSeries[] {
  const epochs = points.filter((p) => p.step === 0);
  return QUALITY.filter((key) => epochs.some((p) => key in p.values)).map((key) => ({ name: key, points: epochs.filter((p) => key in p.values).map((p) => ({ x: p.epoch, y: p.values[key] })) }));
}
