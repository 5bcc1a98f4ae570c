// Crafted zip archives for the readers' tests: what yazl writes, then names or sizes rewritten in place.

import yazl from "yazl";

export async function zipBytes(files: Record<string, Buffer | string>, compress = false): Promise<Buffer> {
  const zip = new yazl.ZipFile();
  for (const [name, bytes] of Object.entries(files)) zip.addBuffer(Buffer.from(bytes), name, { compress });
  zip.end();
  const chunks: Buffer[] = [];
  for await (const chunk of zip.outputStream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** Every occurrence of `from` (a file name) replaced by `to` of the same length: local headers and central directory alike. */
export function renameInZip(bytes: Buffer, from: string, to: string): Buffer {
  if (from.length !== to.length) throw new Error(`${to} must be as long as ${from}`);
  return Buffer.from(bytes.toString("latin1").split(from).join(to), "latin1");
}

const CENTRAL_HEADER = 0x02014b50;

/** The central directory says `name` inflates to `size` bytes (what a zip bomb or a liar declares). */
export function declareSize(bytes: Buffer, name: string, size: number): Buffer {
  const out = Buffer.from(bytes);
  for (let at = out.indexOf(Buffer.from([0x50, 0x4b, 0x01, 0x02])); at >= 0; at = out.indexOf(Buffer.from([0x50, 0x4b, 0x01, 0x02]), at + 4)) {
    if (out.readUInt32LE(at) !== CENTRAL_HEADER) continue;
    const nameLength = out.readUInt16LE(at + 28);
    if (out.toString("latin1", at + 46, at + 46 + nameLength) === name) out.writeUInt32LE(size, at + 24);
  }
  return out;
}
