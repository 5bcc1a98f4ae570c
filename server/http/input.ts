import { z } from "zod";
import { env } from "@/server/env";
import { Invalid, NotFound, TooLarge } from "@/server/errors";

/**
 * What every face accepts before a value reaches the database or the file system: ids fit the
 * int4 columns, names hold no control characters, text no NUL (PostgreSQL refuses it in text and
 * jsonb), bodies stay under a size limit. Bad input is then a 400/404/413, never a database error.
 */

/** The largest value of a PostgreSQL `integer` column. */
export const INT32_MAX = 2_147_483_647;

/** A row id, as every input schema takes it. */
export const recordId = z.number().int().min(1).max(INT32_MAX, { error: `must be ≤ ${INT32_MAX}` });

const CONTROL_CHARACTERS = /[\u0000-\u001f\u007f]/;

/** A name shown in lists and used in URLs: trimmed, 1..max characters, no control characters. */
export function nameText(max: number) {
  return z
    .string()
    .trim()
    .min(1, "required")
    .max(max, `at most ${max} characters`)
    .refine((v) => !CONTROL_CHARACTERS.test(v), "no control characters");
}

/** Free text (descriptions, paths, search strings): anything but NUL. */
export function freeText(max: number) {
  return z
    .string()
    .max(max, `at most ${max} characters`)
    .refine((v) => !v.includes("\u0000"), "no NUL characters");
}

/**
 * An id in a URL path: strict decimal, 1..2^31-1 (`0x1`, `1e3`, ` 1`, `01` name nothing). What is
 * not an id names no row, so it is a 404 like a missing one; `message` replaces the dialect's wording.
 */
export function parsePathId(raw: string, entity: string, message?: string): number {
  const id = /^[1-9]\d{0,9}$/.test(raw) ? Number(raw) : NaN;
  if (!(id <= INT32_MAX)) throw new NotFound(message ?? `${entity} ${raw} not found`);
  return id;
}

/** True when a parsed JSON value (or tRPC input) holds a NUL character in any string or key. */
export function containsNul(value: unknown, depth = 0): boolean {
  if (typeof value === "string") return value.includes("\u0000");
  if (value === null || typeof value !== "object" || depth > 64) return false;
  if (Array.isArray(value)) return value.some((item) => containsNul(item, depth + 1));
  return Object.entries(value).some(([key, item]) => key.includes("\u0000") || containsNul(item, depth + 1));
}

/** Refuses a URL whose path or query holds a NUL or other control character (percent-encoded or not). */
export function checkUrl(url: string): void {
  if (/%(0[0-9a-f]|1[0-9a-f]|7f)/i.test(url) || CONTROL_CHARACTERS.test(url)) throw new Invalid("The URL must not contain control characters");
}

/** The JSON body limit in bytes (STUDIO_JSON_MAX_KB). */
function jsonBodyLimit(): number {
  return env().STUDIO_JSON_MAX_KB * 1024;
}

/**
 * Reads a request body as text, counting bytes as they stream in and stopping at `maxBytes`: a
 * client cannot make the server hold or parse more than the limit.
 */
export async function readBodyText(req: Request, maxBytes: number = jsonBodyLimit()): Promise<string> {
  const tooLarge = () => new TooLarge(`The request body is larger than ${Math.round(maxBytes / 1024)} KB (STUDIO_JSON_MAX_KB)`);
  const declared = Number(req.headers.get("content-length"));
  if (declared > maxBytes) throw tooLarge();
  if (!req.body) return "";
  const reader = req.body.getReader();
  const chunks: Uint8Array[] = [];
  let bytes = 0;
  for (;;) {
    const { done, value } = await reader.read().catch(() => {
      throw new Invalid("The request body could not be read to its end");
    });
    if (done) break;
    bytes += value.byteLength;
    if (bytes > maxBytes) {
      await reader.cancel().catch(() => {});
      throw tooLarge();
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString("utf8");
}
