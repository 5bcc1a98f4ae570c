import { cp, stat } from "node:fs/promises";
import path from "node:path";

/** What a completed run hands over (seed 001's `save_path`): its weights, its arguments, its results table and plots. */
const RESULT_ENTRIES = ["weights", "args.json", "results.csv", "plots"];

/**
 * Copies the run folder's weights/ (best and last checkpoints), args.json, results.csv and plots/ into
 * `saveDir`, keeping their names and layout; returns the entries copied. Existing files of the
 * same names are replaced, as the old trainer overwrote its checkpoints.
 */
export async function copyRunResults(runDir: string, saveDir: string): Promise<string[]> {
  const copied: string[] = [];
  for (const entry of RESULT_ENTRIES) {
    const source = path.join(runDir, entry);
    if (!(await stat(source).catch(() => null))) continue;
    await cp(source, path.join(saveDir, entry), { recursive: true, force: true });
    copied.push(entry);
  }
  if (!copied.includes("weights")) throw new Error(`run folder ${runDir} has no weights folder to copy into ${saveDir}`);
  return copied;
}
