// Annotated prediction images like Ultralytics' `predict` saves: a coloured box per detection with a
// "class 0.87" label, drawn as an SVG overlay composited onto the image by sharp.

import path from "node:path";
import sharp from "sharp";
import type { RgbImage } from "../data/image";
import type { Detection } from "./nms";

/** Ultralytics' default palette, so the same class gets the same colour as there. */
const PALETTE = [
  "#FF3838", "#FF9D97", "#FF701F", "#FFB21D", "#CFD231", "#48F90A", "#92CC17", "#3DDB86", "#1A9334", "#00D4BB",
  "#2C99A8", "#00C2FF", "#344593", "#6473FF", "#0018EC", "#8438FF", "#520085", "#CB38FF", "#FF95C8", "#FF37C7",
];

const escapeXml = (text: string) => text.replace(/[<>&'"]/g, (c) => `&#${c.charCodeAt(0)};`);

/** The SVG overlay (same size as the image) with one box and label per detection. */
export function detectionsSvg(width: number, height: number, detections: Detection[], classNames: string[]): string {
  const line = Math.max(1, Math.round((width + height) / 400));
  const fontSize = Math.max(9, Math.round((width + height) / 60));
  const shapes = detections.map((d) => {
    const [x1, y1, x2, y2] = d.box;
    const colour = PALETTE[d.cls % PALETTE.length];
    const label = `${classNames[d.cls] ?? `class_${d.cls}`} ${d.score.toFixed(2)}`;
    const labelWidth = Math.ceil(label.length * fontSize * 0.6) + 4;
    const labelHeight = fontSize + 4;
    // The label sits above the box, or inside it when the box touches the top edge.
    const labelTop = y1 - labelHeight >= 0 ? y1 - labelHeight : y1;
    return [
      `<rect x="${x1.toFixed(1)}" y="${y1.toFixed(1)}" width="${(x2 - x1).toFixed(1)}" height="${(y2 - y1).toFixed(1)}" fill="none" stroke="${colour}" stroke-width="${line}"/>`,
      `<rect x="${x1.toFixed(1)}" y="${labelTop.toFixed(1)}" width="${labelWidth}" height="${labelHeight}" fill="${colour}"/>`,
      `<text x="${(x1 + 2).toFixed(1)}" y="${(labelTop + fontSize).toFixed(1)}" font-family="sans-serif" font-size="${fontSize}" fill="#FFFFFF">${escapeXml(label)}</text>`,
    ].join("");
  });
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}">${shapes.join("")}</svg>`;
}

/** Output formats sharp writes; anything else (e.g. .bmp) is saved as .png. */
const WRITABLE = new Set([".jpg", ".jpeg", ".png", ".webp"]);

/** The file name an annotated copy of `source` gets inside `dir`. */
export function annotatedFileName(dir: string, source: string): string {
  const ext = path.extname(source);
  const base = path.basename(source, ext);
  return path.join(dir, WRITABLE.has(ext.toLowerCase()) ? `${base}${ext}` : `${base}.png`);
}

/** Writes `img` with its detections drawn to `file` (format from the extension). */
export async function saveAnnotatedImage(img: RgbImage, detections: Detection[], classNames: string[], file: string): Promise<void> {
  const overlay = Buffer.from(detectionsSvg(img.width, img.height, detections, classNames));
  await sharp(img.data, { raw: { width: img.width, height: img.height, channels: 3 } })
    .composite([{ input: overlay, top: 0, left: 0 }])
    .toFile(file);
}
