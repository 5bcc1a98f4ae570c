import sharp from "sharp";

/** A 32 px picture of one shape in one colour on a grey background, jittered so no two are alike. */
export function shapeImage(shape: "circle" | "square" | "triangle", i: number): Promise<Buffer> {
  const colour = { circle: "#d22", square: "#2a2", triangle: "#22d" }[shape];
  const c = 16 + ((i * 5) % 7) - 3;
  const r = 7 + (i % 4);
  const body =
    shape === "circle"
      ? `<circle cx="${c}" cy="${c}" r="${r}" fill="${colour}"/>`
      : shape === "square"
        ? `<rect x="${c - r}" y="${c - r}" width="${2 * r}" height="${2 * r}" fill="${colour}"/>`
        : `<polygon points="${c},${c - r} ${c + r},${c + r} ${c - r},${c + r}" fill="${colour}"/>`;
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="32" height="32"><rect width="32" height="32" fill="#888"/>${body}</svg>`;
  return sharp(Buffer.from(svg)).png().toBuffer();
}
