/**
 * Minimal BMP decoder: sharp's prebuilt libvips has no BMP loader, yet BMP is common in older
 * classification datasets. Supports uncompressed 1/4/8-bit palette, 16/24/32-bit and BI_BITFIELDS images.
 */
export interface DecodedBmp { data: Uint8Array; width: number; height: number }

const BI_RGB = 0;
const BI_BITFIELDS = 3;
const BI_ALPHABITFIELDS = 6;

export function isBmp(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === 0x42 && bytes[1] === 0x4d; // "BM"
}

/** Width and height from the header without decoding pixels (height is positive for top-down files too). */
export function readBmpSize(bytes: Uint8Array): { width: number; height: number } {
  const header = parseHeader(bytes);
  return { width: header.width, height: header.height };
}

function parseHeader(bytes: Uint8Array) {
  if (!isBmp(bytes) || bytes.length < 26) throw new Error("not a BMP file");
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const pixelOffset = view.getUint32(10, true);
  const dibSize = view.getUint32(14, true);
  if (dibSize < 40) throw new Error(`unsupported BMP header (OS/2 style, ${dibSize} bytes)`);
  if (bytes.length < 14 + 40) throw new Error("truncated BMP header");
  const width = view.getInt32(18, true);
  const rawHeight = view.getInt32(22, true);
  const bitCount = view.getUint16(28, true);
  const compression = view.getUint32(30, true);
  const colorsUsed = view.getUint32(46, true);
  if (width <= 0 || rawHeight === 0) throw new Error(`invalid BMP size ${width}x${rawHeight}`);
  return { view, pixelOffset, dibSize, width, height: Math.abs(rawHeight), topDown: rawHeight < 0, bitCount, compression, colorsUsed };
}

export function decodeBmp(bytes: Uint8Array): DecodedBmp {
  const h = parseHeader(bytes);
  const { view, width, height, bitCount, compression } = h;
  if (compression !== BI_RGB && compression !== BI_BITFIELDS && compression !== BI_ALPHABITFIELDS) {
    throw new Error(`unsupported BMP compression ${compression} (only uncompressed BMP is supported)`);
  }
  if (![1, 4, 8, 16, 24, 32].includes(bitCount)) throw new Error(`unsupported BMP bit depth ${bitCount}`);

  const rowBytes = Math.ceil((width * bitCount) / 32) * 4;
  if (h.pixelOffset + rowBytes * height > bytes.length) throw new Error("truncated BMP pixel data");

  let palette: Uint8Array | null = null;
  if (bitCount <= 8) {
    const entries = h.colorsUsed || 1 << bitCount;
    const start = 14 + h.dibSize;
    palette = bytes.subarray(start, start + entries * 4); // stored as B, G, R, reserved
  }
  const masks = bitCount === 16 || bitCount === 32 ? channelMasks(h, view) : null;

  const out = new Uint8Array(width * height * 3);
  for (let row = 0; row < height; row++) {
    const srcRow = h.topDown ? row : height - 1 - row;
    const rowStart = h.pixelOffset + srcRow * rowBytes;
    for (let x = 0; x < width; x++) {
      const o = (row * width + x) * 3;
      if (palette) {
        const bitPos = x * bitCount;
        const byte = bytes[rowStart + (bitPos >> 3)];
        const index = (byte >> (8 - bitCount - (bitPos & 7))) & ((1 << bitCount) - 1);
        out[o] = palette[index * 4 + 2] ?? 0;
        out[o + 1] = palette[index * 4 + 1] ?? 0;
        out[o + 2] = palette[index * 4] ?? 0;
      } else if (masks) {
        const p = bitCount === 16 ? view.getUint16(rowStart + x * 2, true) : view.getUint32(rowStart + x * 4, true);
        out[o] = masks[0](p);
        out[o + 1] = masks[1](p);
        out[o + 2] = masks[2](p);
      } else {
        const p = rowStart + x * 3;
        out[o] = bytes[p + 2];
        out[o + 1] = bytes[p + 1];
        out[o + 2] = bytes[p];
      }
    }
  }
  return { data: out, width, height };
}

function channelMasks(h: ReturnType<typeof parseHeader>, view: DataView): Array<(p: number) => number> {
  let masks: number[];
  if (h.compression === BI_RGB) {
    masks = h.bitCount === 16 ? [0x7c00, 0x03e0, 0x001f] : [0x00ff0000, 0x0000ff00, 0x000000ff];
  } else {
    // Masks follow the 40-byte header (BITMAPINFOHEADER + BI_BITFIELDS) or live inside V4/V5 headers.
    masks = [view.getUint32(54, true), view.getUint32(58, true), view.getUint32(62, true)];
  }
  return masks.map((mask) => {
    if (mask === 0) return () => 0;
    const shift = Math.log2(mask & -mask);
    const max = mask >>> shift;
    return (p: number) => Math.round((((p & mask) >>> shift) * 255) / max);
  });
}
