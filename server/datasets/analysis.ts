import type { DatasetSplitName, DatasetStats, NumberSummary, StoredBox } from "@/db/schema";

/** One readable image as stored, with what the analysis needs. */
export interface AnalysedItem {
  path: string;
  split: DatasetSplitName;
  bytes: number;
  sha256: string;
  width: number;
  height: number;
  label: number | null;
  boxes: StoredBox[] | null;
}

/** A box narrower or lower than this many pixels of its image is "tiny": hard to learn, often a labelling slip. */
const TINY_BOX_PIXELS = 4;

function summarize(values: number[]): NumberSummary | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  const median = sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
  return { min: sorted[0], median, max: sorted[sorted.length - 1] };
}

const round = (v: number, digits = 4) => Math.round(v * 10 ** digits) / 10 ** digits;

/** Every figure the dataset page and `/api/v1/datasets/{id}` show, computed from the stored items. */
export function analyse(
  task: "classify" | "detect",
  classes: string[],
  items: AnalysedItem[],
  extra: Pick<DatasetStats, "corrupt" | "outOfRangeBoxes" | "skipped" | "evidence">,
): DatasetStats {
  const perSplit: Record<DatasetSplitName, number> = { train: 0, val: 0, test: 0 };
  const classImages = classes.map(() => 0);
  const classInstances = classes.map(() => 0);
  let emptyImages = 0;
  let tinyBoxes = 0;
  const byHash = new Map<string, string[]>();
  for (const item of items) {
    perSplit[item.split]++;
    byHash.set(item.sha256, [...(byHash.get(item.sha256) ?? []), item.path]);
    if (task === "classify") {
      if (item.label !== null) {
        classImages[item.label]++;
        classInstances[item.label]++;
      }
      continue;
    }
    const boxes = item.boxes ?? [];
    if (boxes.length === 0) emptyImages++;
    for (const cls of new Set(boxes.map((b) => b.cls))) classImages[cls]++;
    for (const box of boxes) {
      classInstances[box.cls]++;
      if (box.w * item.width < TINY_BOX_PIXELS || box.h * item.height < TINY_BOX_PIXELS) tinyBoxes++;
    }
  }
  return {
    images: items.length,
    bytes: items.reduce((sum, i) => sum + i.bytes, 0),
    perSplit,
    classes: classes.map((name, i) => ({ name, images: classImages[i], instances: classInstances[i] })),
    width: summarize(items.map((i) => i.width)),
    height: summarize(items.map((i) => i.height)),
    aspect: summarize(items.map((i) => round(i.width / i.height))),
    emptyRate: items.length ? round(emptyImages / items.length) : 0,
    emptyImages,
    corrupt: extra.corrupt,
    duplicates: [...byHash]
      .filter(([, paths]) => paths.length > 1)
      .map(([sha256, paths]) => ({ sha256, paths: paths.sort() }))
      .sort((a, b) => (a.paths[0] < b.paths[0] ? -1 : 1)),
    outOfRangeBoxes: extra.outOfRangeBoxes,
    tinyBoxes,
    skipped: extra.skipped,
    evidence: extra.evidence,
  };
}
