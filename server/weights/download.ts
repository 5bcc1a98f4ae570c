import { createReadStream } from "node:fs";
import { Readable } from "node:stream";
import type { Ctx } from "@/server/context";
import { Conflict } from "@/server/errors";
import { getWeights } from "./queries";
import { weightsExtension, weightsFilePath } from "./storage";

export interface WeightsDownload {
  path: string;
  bytes: number;
  sha256: string;
  /** The name the browser saves it under: the entry's name with the format's extension. */
  filename: string;
}

/** The file of a ready entry of the caller's team. */
export async function weightsDownload(ctx: Ctx, id: number): Promise<WeightsDownload> {
  const entry = await getWeights(ctx, id);
  if (entry.status !== "ready") throw new Conflict(`Weights ${id} are ${entry.status === "processing" ? "still being produced" : "failed"}: there is no file to download`, { id: [entry.status] });
  const ext = weightsExtension(entry.format);
  const base = entry.name.replace(/[/\\]/g, "_");
  return { path: weightsFilePath(entry.file), bytes: entry.bytes, sha256: entry.sha256, filename: base.toLowerCase().endsWith(ext) ? base : `${base}${ext}` };
}

/** `attachment` with an ASCII fallback name and the exact one in RFC 5987 form. */
function contentDisposition(filename: string): string {
  const ascii = filename.replace(/[^\x20-\x7e]/g, "_").replace(/["\\]/g, "_");
  return `attachment; filename="${ascii}"; filename*=UTF-8''${encodeURIComponent(filename)}`;
}

/**
 * One `bytes=` range of a file of `size` bytes: `{start, end}` (inclusive), "unsatisfiable", or null
 * when the header asks for no single range we serve (absent, malformed, several ranges): the whole file.
 */
function parseRange(header: string | null, size: number): { start: number; end: number } | "unsatisfiable" | null {
  const match = header?.trim().match(/^bytes=(\d*)-(\d*)$/);
  if (!match || (match[1] === "" && match[2] === "")) return null;
  if (match[1] === "") {
    const suffix = Number(match[2]);
    if (suffix === 0) return "unsatisfiable";
    return { start: Math.max(0, size - suffix), end: size - 1 };
  }
  const start = Number(match[1]);
  const end = match[2] === "" ? size - 1 : Math.min(Number(match[2]), size - 1);
  if (match[2] !== "" && Number(match[2]) < start) return null;
  if (start >= size) return "unsatisfiable";
  return { start, end };
}

/** Streams the file (never buffered), honouring a single Range request. */
export function downloadResponse(download: WeightsDownload, req: Request): Response {
  const headers = new Headers({
    "Content-Type": "application/octet-stream",
    "Content-Disposition": contentDisposition(download.filename),
    "Accept-Ranges": "bytes",
    ETag: `"${download.sha256}"`,
    "Cache-Control": "private, no-cache",
  });
  const ifRange = req.headers.get("if-range");
  const range = ifRange && ifRange !== headers.get("ETag") ? null : parseRange(req.headers.get("range"), download.bytes);
  if (range === "unsatisfiable") {
    headers.set("Content-Range", `bytes */${download.bytes}`);
    return new Response(null, { status: 416, headers });
  }
  const { start, end } = range ?? { start: 0, end: download.bytes - 1 };
  headers.set("Content-Length", String(end - start + 1));
  if (range) headers.set("Content-Range", `bytes ${start}-${end}/${download.bytes}`);
  const body = req.method === "HEAD" ? null : (Readable.toWeb(createReadStream(download.path, { start, end })) as unknown as ReadableStream<Uint8Array>);
  return new Response(body, { status: range ? 206 : 200, headers });
}
