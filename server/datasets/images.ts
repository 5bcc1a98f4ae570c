import { createReadStream } from "node:fs";
import { stat } from "node:fs/promises";
import path from "node:path";
import { Readable } from "node:stream";
import type { ReadableStream as WebReadableStream } from "node:stream/web";
import type { Ctx } from "@/server/context";
import { NotFound } from "@/server/errors";
import { getDatasetItem } from "./service";
import { itemFile } from "./storage";
import { ensureThumbnail } from "./thumbs";

const CONTENT_TYPES: Record<string, string> = {
  ".jpg": "image/jpeg",
  ".jpeg": "image/jpeg",
  ".png": "image/png",
  ".webp": "image/webp",
  ".bmp": "image/bmp",
  ".gif": "image/gif",
  ".tif": "image/tiff",
  ".tiff": "image/tiff",
};

/** An item's image or its cached thumbnail, streamed; the team check happens through the dataset. */
export async function serveDatasetImage(ctx: Ctx, datasetId: number, itemId: number, thumb: boolean): Promise<Response> {
  const item = await getDatasetItem(ctx, datasetId, itemId);
  // A row whose file is gone (storage restored without it, removed by hand) is missing, not a 500.
  if (!(await stat(itemFile(datasetId, item.path)).catch(() => null))) throw new NotFound(`Image ${itemId} of dataset ${datasetId} has no file on the server`);
  const file = thumb ? await ensureThumbnail(datasetId, item) : itemFile(datasetId, item.path);
  const { size } = await stat(file);
  const body = Readable.toWeb(createReadStream(file)) as unknown as WebReadableStream<Uint8Array>;
  return new Response(body as unknown as BodyInit, {
    headers: {
      "Content-Type": thumb ? "image/webp" : (CONTENT_TYPES[path.extname(file).toLowerCase()] ?? "application/octet-stream"),
      "Content-Length": String(size),
      // Item files never change under the same id; private because they need a login.
      "Cache-Control": "private, max-age=86400",
      "X-Content-Type-Options": "nosniff",
    },
  });
}
