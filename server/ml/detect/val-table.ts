// The validation table Ultralytics prints after `yolo val`, so its users read our results the same way.

import type { DetectionReport } from "../metrics/detect";

const COLUMNS = ["Images", "Instances", "Box(P", "R", "mAP50", "mAP50-95)"];
const NUMBER_WIDTH = 11;

export interface ValTableInput {
  report: Pick<DetectionReport, "precision" | "recall" | "mAP50" | "mAP50_95" | "perClass">;
  classNames: string[];
  images: number;
  /** Images that contain the class, per class id. */
  imagesPerClass: number[];
}

/**
 * Header, an `all` row, then one row per class that has ground truth (as Ultralytics, which lists the
 * classes seen in the labels): Class, Images, Instances, Box(P, R, mAP50, mAP50-95).
 */
export function formatValTable({ report, classNames, images, imagesPerClass }: ValTableInput): string[] {
  const classWidth = Math.max(22, ...classNames.map((name) => name.length + 2));
  const row = (name: string, values: string[]) => name.padStart(classWidth) + values.map((v) => v.padStart(NUMBER_WIDTH)).join("");
  const fraction = (v: number | null) => (v === null ? "-" : v.toFixed(3));
  const instances = report.perClass.reduce((n, c) => n + c.instances, 0);
  const lines = [
    row("Class", COLUMNS),
    row("all", [String(images), String(instances), fraction(report.precision), fraction(report.recall), fraction(report.mAP50), fraction(report.mAP50_95)]),
  ];
  for (const c of report.perClass) {
    if (c.instances === 0) continue;
    lines.push(
      row(classNames[c.cls] ?? `class_${c.cls}`, [
        String(imagesPerClass[c.cls] ?? 0),
        String(c.instances),
        fraction(c.precision),
        fraction(c.recall),
        fraction(c.ap50),
        fraction(c.ap50_95),
      ]),
    );
  }
  return lines;
}
