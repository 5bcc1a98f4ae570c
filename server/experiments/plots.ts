import { constants } from "node:fs";
import { lstat, open, readdir } from "node:fs/promises";
import path from "node:path";
import type { Ctx } from "@/server/context";
import { NotFound } from "@/server/errors";
import { getExperiment } from "./queries";

/** Only plain PNG names the engine writes (results.png, PR_curve.png …): never a path. */
const PLOT_NAME = /^[A-Za-z0-9_]+\.png$/;

/** Ultralytics users read them in this order; other names follow alphabetically. */
const PLOT_ORDER = ["results.png", "confusion_matrix.png", "confusion_matrix_normalized.png", "PR_curve.png", "F1_curve.png", "P_curve.png", "R_curve.png"];

export interface PlotFile {
  name: string;
  /** Last write, ms since the epoch: changes each time the run redraws the plot. */
  mtime: number;
  bytes: number;
}

/**
 * `<runDir>/plots` when it is a real folder. A run with an external command writes into its run folder,
 * so symbolic links there (the folder or a plot) are never followed out of it.
 */
async function plotsDir(runDir: string): Promise<string | null> {
  const dir = path.join(runDir, "plots");
  const info = await lstat(dir).catch(() => null);
  return info?.isDirectory() ? dir : null;
}

/** The PNGs in the experiment's `<runDir>/plots/`; empty before the run has drawn any. */
export async function listPlots(ctx: Ctx, id: number): Promise<PlotFile[]> {
  const experiment = await getExperiment(ctx, id);
  if (!experiment.runDir) return [];
  const dir = await plotsDir(experiment.runDir);
  if (!dir) return [];
  const plots: PlotFile[] = [];
  for (const name of (await readdir(dir)).filter((n) => PLOT_NAME.test(n))) {
    const info = await lstat(path.join(dir, name)).catch(() => null);
    if (info?.isFile()) plots.push({ name, mtime: Math.round(info.mtimeMs), bytes: info.size });
  }
  const rank = (name: string) => (PLOT_ORDER.includes(name) ? PLOT_ORDER.indexOf(name) : PLOT_ORDER.length);
  return plots.sort((a, b) => rank(a.name) - rank(b.name) || a.name.localeCompare(b.name));
}

/** One plot as image/png, after the team check; any other name, or a plot not drawn yet, is NotFound. */
export async function servePlot(ctx: Ctx, id: number, name: string): Promise<Response> {
  const experiment = await getExperiment(ctx, id);
  const missing = new NotFound(`Experiment ${id} has no plot ${name}`);
  const dir = PLOT_NAME.test(name) && experiment.runDir ? await plotsDir(experiment.runDir) : null;
  if (!dir) throw missing;
  const file = await open(path.join(dir, name), constants.O_RDONLY | constants.O_NOFOLLOW).catch((error: NodeJS.ErrnoException) => {
    if (error.code === "ENOENT" || error.code === "ELOOP") throw missing;
    throw error;
  });
  let png: Buffer;
  try {
    if (!(await file.stat()).isFile()) throw missing;
    // Plots are small (≤ a few hundred kB) and replaced by rename: one read gives a whole, consistent file.
    png = await file.readFile();
  } finally {
    await file.close();
  }
  return new Response(new Uint8Array(png), {
    headers: {
      "Content-Type": "image/png",
      "Content-Length": String(png.length),
      // Redrawn every epoch under the same name: a cached copy must not be shown without asking.
      "Cache-Control": "private, no-cache",
      "X-Content-Type-Options": "nosniff",
    },
  });
}
