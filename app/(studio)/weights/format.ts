/** The figure the library ranks weights by: mAP50-95 for detectors, top-1 accuracy for classifiers. */
export function headlineMetric(metrics: { values: Record<string, number> } | null): { name: string; value: number } | null {
  const values = metrics?.values;
  if (!values) return null;
  if (values.mAP50_95 !== undefined) return { name: "mAP50-95", value: values.mAP50_95 };
  if (values.top1_acc !== undefined) return { name: "top-1", value: values.top1_acc };
  return null;
}

export function fileSize(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KB`;
  if (bytes < 1024 ** 3) return `${(bytes / 1024 ** 2).toFixed(1)} MB`;
  return `${(bytes / 1024 ** 3).toFixed(2)} GB`;
}

export function tagList(text: string): string[] {
  return text.split(",").map((tag) => tag.trim()).filter(Boolean);
}
