import { mkdir, rename, stat } from "node:fs/promises";
import path from "node:path";
import sharp from "sharp";
import { DEFAULT_MAX_PIXELS } from "@/server/ml/data/image";
import { itemFile, thumbsDir } from "./storage";

const THUMB_SIZE = 160;

/**
 * The item's thumbnail (WebP, at most THUMB_SIZE on its longer side), made on first request and kept in
 * `datasets/<id>/.thumbs/`. Written under a temporary name first so a concurrent request never reads half a file.
 */
export async function ensureThumbnail(datasetId: number, item: { id: number; path: string }): Promise<string> {
  const target = path.join(thumbsDir(datasetId), `${item.id}.webp`);
  if (await stat(target).then(() => true, () => false)) return target;
  await mkdir(thumbsDir(datasetId), { recursive: true });
  const partial = `${target}.${process.pid}.${Date.now()}.part`;
  await sharp(itemFile(datasetId, item.path), { limitInputPixels: DEFAULT_MAX_PIXELS })
    .rotate()
    .resize(THUMB_SIZE, THUMB_SIZE, { fit: "inside", withoutEnlargement: true })
    .webp({ quality: 80 })
    .toFile(partial);
  await rename(partial, target);
  return target;
}
