"use client";

/** Normalised centre boxes (the engine's format) drawn over an image of any displayed size. */
export interface OverlayBox {
  cls: number;
  x: number;
  y: number;
  w: number;
  h: number;
}

const COLOURS = ["#e6194b", "#3cb44b", "#4363d8", "#f58231", "#911eb4", "#42d4f4", "#f032e6", "#bfef45"];

/** Boxes in SVG (stretched to the image), names in HTML on top (SVG text would stretch with it). */
function BoxOverlay({ boxes, classes, names }: { boxes: OverlayBox[]; classes: string[]; names: boolean }) {
  return (
    <>
      <svg viewBox="0 0 1 1" preserveAspectRatio="none" style={{ position: "absolute", inset: 0, width: "100%", height: "100%", pointerEvents: "none" }} data-testid="box-overlay">
        {boxes.map((b, i) => (
          <g key={i}>
            <rect x={b.x - b.w / 2} y={b.y - b.h / 2} width={b.w} height={b.h} fill="none" stroke={COLOURS[b.cls % COLOURS.length]} strokeWidth={2} vectorEffect="non-scaling-stroke">
              <title>{classes[b.cls] ?? b.cls}</title>
            </rect>
          </g>
        ))}
      </svg>
      {names &&
        boxes.map((b, i) => (
          <span
            key={i}
            data-testid="box-label"
            style={{
              position: "absolute",
              left: `${(b.x - b.w / 2) * 100}%`,
              top: `${Math.max(0, b.y - b.h / 2) * 100}%`,
              transform: "translateY(-100%)",
              background: COLOURS[b.cls % COLOURS.length],
              color: "#fff",
              font: "11px/1.4 sans-serif",
              padding: "0 3px",
              whiteSpace: "nowrap",
              pointerEvents: "none",
            }}
          >
            {classes[b.cls] ?? b.cls}
          </span>
        ))}
    </>
  );
}

/** An image with its boxes on top; at full size (no `size`) each box carries its class name. */
export function LabelledImage({ src, boxes, classes, alt, size }: { src: string; boxes: OverlayBox[] | null; classes: string[]; alt: string; size?: number }) {
  return (
    <div style={{ position: "relative", display: "inline-block", lineHeight: 0 }}>
      <img src={src} alt={alt} style={{ maxWidth: size ?? "100%", maxHeight: size ?? "70vh", display: "block" }} />
      {boxes && boxes.length > 0 && <BoxOverlay boxes={boxes} classes={classes} names={size === undefined} />}
    </div>
  );
}
