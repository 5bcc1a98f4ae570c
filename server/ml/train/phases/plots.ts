import { readFile } from "node:fs/promises";
import path from "node:path";
import type { LogStage } from "../events";
import { parseResultsCsv, resultsPlot, writePlots, type Plot } from "../plots";
import type { RunFolder } from "../run-folder";

const RESULTS_PLOT_INTERVAL_MS = 2000;

type Log = (message: string, stage: LogStage, level?: "info" | "warn" | "error", epoch?: number) => Promise<void>;

/**
 * Plots are a view of the run: drawn one after another beside training (the SVG takes ~2 ms here,
 * sharp's 30-80 ms PNG rendering runs off the JS thread), awaited before the run ends; a failure is
 * logged, never fails the run.
 */
export class RunPlots {
  private readonly dir: string;
  private plotting = Promise.resolve();
  private resultsPlotted = { epoch: 0, at: -Infinity };

  constructor(
    private readonly folder: RunFolder,
    private readonly log: Log,
  ) {
    this.dir = path.join(folder.dir, "plots");
  }

  draw(make: () => Plot[] | Promise<Plot[]>, stage: LogStage, epoch: number): void {
    this.plotting = this.plotting.then(async () => {
      try {
        await writePlots(this.dir, await make());
      } catch (error) {
        // Never rejects: a failing event hook fails the loop's own next event instead.
        await this.log(`Could not write plots to ${this.dir}: ${(error as Error).message}`, stage, "warn", epoch).catch(() => undefined);
      }
    });
  }

  /**
   * results.png is redrawn at most every RESULTS_PLOT_INTERVAL_MS (short epochs would otherwise spend a
   * tenth of their time on it), and always for the last epoch trained.
   */
  drawResults(epoch: number, force = false): void {
    if (epoch <= this.resultsPlotted.epoch || (!force && performance.now() - this.resultsPlotted.at < RESULTS_PLOT_INTERVAL_MS)) return;
    this.resultsPlotted = { epoch, at: performance.now() };
    // From the file, so a resumed run's plot also shows the epochs before the resume.
    this.draw(async () => [resultsPlot(parseResultsCsv(await readFile(this.folder.resultsFile, "utf8")))], "epoch_end", epoch);
  }

  /** Resolves once every plot asked for so far is written (or its failure logged). */
  settled(): Promise<void> {
    return this.plotting;
  }
}
