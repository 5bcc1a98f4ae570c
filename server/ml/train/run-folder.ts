import { mkdir, readFile, stat } from "node:fs/promises";
import path from "node:path";
import { CHECKPOINT_EXTENSION, writeFileAtomic } from "./checkpoint";

/** A run folder as Ultralytics users know it: runs/<project>/<name>/{args.json, results.csv, weights/}. */
export interface RunFolder {
  dir: string;
  name: string;
  weightsDir: string;
  argsFile: string;
  resultsFile: string;
  lastCheckpoint: string;
  bestCheckpoint: string;
}

export class RunFolderError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "RunFolderError";
  }
}

function runFolderAt(dir: string): RunFolder {
  const weightsDir = path.join(dir, "weights");
  return {
    dir,
    name: path.basename(dir),
    weightsDir,
    argsFile: path.join(dir, "args.json"),
    resultsFile: path.join(dir, "results.csv"),
    lastCheckpoint: path.join(weightsDir, `last${CHECKPOINT_EXTENSION}`),
    bestCheckpoint: path.join(weightsDir, `best${CHECKPOINT_EXTENSION}`),
  };
}

export function epochCheckpoint(folder: RunFolder, epoch: number): string {
  return path.join(folder.weightsDir, `epoch${epoch}${CHECKPOINT_EXTENSION}`);
}

/** One path segment that stays where it is put: not empty, ".", "..", nor holding a separator or NUL. */
function isFolderName(part: string): boolean {
  return part !== "" && part !== "." && part !== ".." && !/[/\\\0]/.test(part);
}

/**
 * Creates runs/<project>/<name>; when taken, name2, name3 … (like Ultralytics' exp, exp2).
 * mkdir without `recursive` on the last level makes the claim race-free between processes.
 */
export async function createRunFolder(opts: { runsDir: string; project: string; name: string; existOk?: boolean }): Promise<RunFolder> {
  for (const part of [opts.project, opts.name]) {
    if (!isFolderName(part)) throw new RunFolderError(`"${part}" is not a folder name: a run folder stays inside ${opts.runsDir}`);
  }
  const projectDir = path.join(opts.runsDir, opts.project);
  await mkdir(projectDir, { recursive: true });
  for (let attempt = 1; ; attempt++) {
    const dir = path.join(projectDir, attempt === 1 ? opts.name : `${opts.name}${attempt}`);
    try {
      await mkdir(dir);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
      if (opts.existOk && attempt === 1) {
        await mkdir(path.join(dir, "weights"), { recursive: true });
        return runFolderAt(dir);
      }
      continue;
    }
    await mkdir(path.join(dir, "weights"));
    return runFolderAt(dir);
  }
}

/** An existing run folder to resume; it must hold weights/last. */
export async function openRunFolder(dir: string): Promise<RunFolder> {
  const folder = runFolderAt(dir);
  if (!(await stat(folder.lastCheckpoint).catch(() => null))?.isFile()) {
    throw new RunFolderError(`cannot resume: ${folder.lastCheckpoint} does not exist`);
  }
  return folder;
}

export async function writeArgs(folder: RunFolder, args: Record<string, unknown>): Promise<void> {
  await writeFileAtomic(folder.argsFile, [Buffer.from(JSON.stringify(args, null, 2) + "\n")]);
}

/** results.csv: one row per epoch; columns fixed by the task adapter. */
export class ResultsCsv {
  private rows: string[] = [];

  private constructor(
    private readonly file: string,
    readonly columns: string[],
  ) {}

  static create(file: string, columns: string[]): ResultsCsv {
    return new ResultsCsv(file, columns);
  }

  /** Opens an existing file to resume, keeping only rows of epochs before `nextEpoch`. */
  static async resume(file: string, columns: string[], nextEpoch: number): Promise<ResultsCsv> {
    const csv = new ResultsCsv(file, columns);
    const text = await readFile(file, "utf8").catch(() => "");
    const [header, ...rows] = text.split("\n").filter((line) => line.trim() !== "");
    if (header && header.split(",").map((c) => c.trim()).join(",") === columns.join(",")) {
      csv.rows = rows.filter((row) => Number(row.split(",")[0]) < nextEpoch);
    }
    return csv;
  }

  async append(values: Record<string, number | undefined>): Promise<void> {
    this.rows.push(this.columns.map((column) => formatCell(values[column])).join(","));
    await this.write();
  }

  private async write(): Promise<void> {
    await writeFileAtomic(this.file, [Buffer.from([this.columns.join(","), ...this.rows].join("\n") + "\n")]);
  }
}

function formatCell(value: number | undefined): string {
  if (value === undefined || !Number.isFinite(value)) return "";
  return Number.isInteger(value) ? String(value) : value.toPrecision(6).replace(/\.?0+$/, "");
}
