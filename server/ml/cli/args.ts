// Ultralytics-style key=value arguments: each command declares its keys and how their values read.
import path from "node:path";

export class CliError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "CliError";
  }
}

export type ArgValue = string | number | boolean;
export type CliArgs = Record<string, ArgValue>;

/**
 * How a key's value reads: text stays a string; a flag is True/False; a count is an integer ≥ min;
 * "auto" (training settings, validated by the training config) turns numbers and booleans into theirs.
 */
export type KeyRule = "text" | "flag" | "number" | "auto" | { integer: true; min: number };

export interface CliOutput {
  /** Results: one line each (JSON with --json). */
  print(line: string): void;
  /** Progress and where files went, for a person (stderr). */
  note(line: string): void;
  json: boolean;
}

export interface CliCommand {
  name: string;
  /** Keys in the order the usage lists them. */
  keys: Record<string, KeyRule>;
  run(args: CliArgs, out: CliOutput): Promise<void>;
}

const TRUE = new Set(["true", "True", "1"]);
const FALSE = new Set(["false", "False", "0"]);

/** The value of `key=raw`, or the reason it is not one. */
export function readValue(rule: KeyRule, raw: string): { value: ArgValue } | { reason: string } {
  if (rule === "text") return raw === "" ? { reason: "is empty" } : { value: raw };
  if (rule === "flag") {
    if (TRUE.has(raw)) return { value: true };
    if (FALSE.has(raw)) return { value: false };
    return { reason: "must be True or False" };
  }
  if (rule === "auto") {
    if (raw === "true" || raw === "True") return { value: true };
    if (raw === "false" || raw === "False") return { value: false };
    return { value: raw !== "" && Number.isFinite(Number(raw)) ? Number(raw) : raw };
  }
  const value = Number(raw);
  if (raw === "" || !Number.isFinite(value)) return { reason: "must be a number" };
  if (rule === "number") return { value };
  if (!Number.isInteger(value) || value < rule.min) return { reason: `must be an integer of at least ${rule.min}` };
  return { value };
}

export function requireArg(args: CliArgs, key: string, command: string): string {
  const value = args[key];
  if (value === undefined || value === "") throw new CliError(`${command} needs ${key}=…`);
  return String(value);
}

export const numberOr = (args: CliArgs, key: string): number | undefined => (args[key] === undefined ? undefined : Number(args[key]));

/**
 * Ultralytics' project=/name=: a project that is a path (`/abs/runs`, `./out`) is the folder that holds
 * the run; a plain name is a folder under runsDir, `runs/<task>` by default (the runs folder the model was
 * trained in, for our checkpoints).
 */
export function runLocation(args: CliArgs, fallbackProject: string, defaultRunsDir = "runs"): { runsDir: string; project: string } {
  const project = args.project === undefined ? fallbackProject : String(args.project);
  if (path.isAbsolute(project) || project.includes("/") || project.includes(path.sep)) {
    const folder = path.resolve(project);
    return { runsDir: path.dirname(folder), project: path.basename(folder) };
  }
  return { runsDir: String(args.runsDir ?? defaultRunsDir), project };
}
