// Box geometry on plain numbers. Definitions follow Ultralytics' `bbox_iou` (same eps placement) so that
// the assigner and the metrics agree with the reference implementation.

export type Xyxy = [number, number, number, number];
export type Xywh = [number, number, number, number];

const EPS = 1e-7;

export function xywhToXyxy([cx, cy, w, h]: Xywh): Xyxy {
  return [cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2];
}

export function xyxyToXywh([x1, y1, x2, y2]: Xyxy): Xywh {
  return [(x1 + x2) / 2, (y1 + y2) / 2, x2 - x1, y2 - y1];
}

export type IouKind = "iou" | "giou" | "diou" | "ciou";

/** IoU family between two xyxy boxes. */
export function bboxIou(a: Xyxy, b: Xyxy, kind: IouKind = "iou"): number {
  const [ax1, ay1, ax2, ay2] = a;
  const [bx1, by1, bx2, by2] = b;
  const w1 = ax2 - ax1;
  const h1 = ay2 - ay1 + EPS;
  const w2 = bx2 - bx1;
  const h2 = by2 - by1 + EPS;
  const inter = Math.max(0, Math.min(ax2, bx2) - Math.max(ax1, bx1)) * Math.max(0, Math.min(ay2, by2) - Math.max(ay1, by1));
  const union = w1 * h1 + w2 * h2 - inter + EPS;
  const iou = inter / union;
  if (kind === "iou") return iou;
  const cw = Math.max(ax2, bx2) - Math.min(ax1, bx1);
  const ch = Math.max(ay2, by2) - Math.min(ay1, by1);
  if (kind === "giou") {
    const cArea = cw * ch + EPS;
    return iou - (cArea - union) / cArea;
  }
  const c2 = cw * cw + ch * ch + EPS;
  const rho2 = ((bx1 + bx2 - ax1 - ax2) ** 2 + (by1 + by2 - ay1 - ay2) ** 2) / 4;
  if (kind === "diou") return iou - rho2 / c2;
  const v = (4 / Math.PI ** 2) * (Math.atan(w2 / h2) - Math.atan(w1 / h1)) ** 2;
  const alpha = v / (v - iou + (1 + EPS));
  return iou - (rho2 / c2 + v * alpha);
}

/** Plain IoU of two xyxy boxes stored at offsets `i` and `j` of flat arrays (hot loops: NMS, matching). */
export function iouAt(a: ArrayLike<number>, i: number, b: ArrayLike<number>, j: number): number {
  const iw = Math.min(a[i + 2], b[j + 2]) - Math.max(a[i], b[j]);
  const ih = Math.min(a[i + 3], b[j + 3]) - Math.max(a[i + 1], b[j + 1]);
  if (iw <= 0 || ih <= 0) return 0;
  const inter = iw * ih;
  const areaA = (a[i + 2] - a[i]) * (a[i + 3] - a[i + 1]);
  const areaB = (b[j + 2] - b[j]) * (b[j + 3] - b[j + 1]);
  return inter / (areaA + areaB - inter + EPS);
}
