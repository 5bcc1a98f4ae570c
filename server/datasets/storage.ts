import path from "node:path";
import { env } from "@/server/env";

/** Where a dataset's files live: `<dataDir>/datasets/<id>`. The studio names these folders, never the user. */
export function datasetDir(datasetId: number): string {
  return path.join(env().dataDir, "datasets", String(datasetId));
}

/** Cached preview thumbnails; a dot folder, so the format readers never see it. */
export function thumbsDir(datasetId: number): string {
  return path.join(datasetDir(datasetId), ".thumbs");
}

/** Staging area for uploads (swept on start). */
export function tmpDir(): string {
  return path.join(env().dataDir, "tmp");
}

/** Joins a stored relative item path to the dataset folder, refusing anything that would leave it. */
export function itemFile(datasetId: number, relativePath: string): string {
  const root = datasetDir(datasetId);
  const full = path.resolve(root, relativePath);
  if (!full.startsWith(root + path.sep)) throw new Error(`item path ${relativePath} leaves the dataset folder`);
  return full;
}
