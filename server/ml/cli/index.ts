/**
 * The studio's command line, with Ultralytics' key=value arguments:
 *   npm run studio -- train model=yolov8n.pt data=path/to/data.yaml epochs=3 imgsz=320 project=/abs/runs name=exp
 *   npm run studio -- val model=runs/detect/exp data=…            (a checkpoint, run folder, .pt or .onnx)
 *   npm run studio -- export model=yolov8n.pt format=onnx imgsz=320 half=True
 *   npm run studio -- predict model=… source=image-or-folder
 *   npm run studio -- info model=yolov8n | yolov8s.yaml | yolov8n.pt | runs/detect/exp
 * `--json` prints one JSON object per line (training events, results) instead of text. Errors are one
 * line on stderr and exit code 1.
 */
import path from "node:path";
import { pathToFileURL } from "node:url";
import { CliError, readValue, type CliArgs, type CliCommand, type CliOutput } from "./args";
import { exportCommand } from "./export";
import { infoCommand } from "./info";
import { predictCommand } from "./predict";
import { trainCommand } from "./train";
import { valCommand } from "./val";

/** Benchmarks are scripts that call the engine (npm run bench:train …), not commands of it. */
export const COMMANDS: CliCommand[] = [trainCommand, valCommand, exportCommand, predictCommand, infoCommand];

export interface ParsedCli {
  command: string;
  args: CliArgs;
  json: boolean;
}

export function parseCliArgs(argv: string[]): ParsedCli {
  const json = argv.includes("--json");
  const [name, ...pairs] = argv.filter((a) => a !== "--json");
  const command = COMMANDS.find((c) => c.name === name);
  if (!command) {
    throw new CliError(`${name ? `unknown command "${name}"` : "missing command"}; commands: ${COMMANDS.map((c) => c.name).join(", ")}`);
  }
  const keys = Object.keys(command.keys);
  const usage = `valid keys: ${keys.join(", ") || "(none)"}`;
  const args: CliArgs = {};
  for (const pair of pairs) {
    const eq = pair.indexOf("=");
    if (eq <= 0) throw new CliError(`argument "${pair}" is not key=value; ${usage.replace("valid keys", `valid keys for ${command.name}`)}`);
    const key = pair.slice(0, eq);
    const raw = pair.slice(eq + 1);
    const rule = command.keys[key];
    if (!rule) throw new CliError(`unknown key "${key}" for ${command.name}; ${usage}`);
    const read = readValue(rule, raw);
    if ("reason" in read) throw new CliError(`${key}=${raw} for ${command.name} ${read.reason}; ${usage}`);
    args[key] = read.value;
  }
  return { command: command.name, args, json };
}

export async function runCli(argv: string[], print: (line: string) => void = (line) => console.log(line), note: (line: string) => void = (line) => console.error(line)): Promise<void> {
  const { command, args, json } = parseCliArgs(argv);
  const out: CliOutput = { print, note, json };
  await COMMANDS.find((c) => c.name === command)!.run(args, out);
}

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  runCli(process.argv.slice(2)).catch((error: Error) => {
    console.error(`error: ${error.message.split("\n")[0]}`);
    process.exit(1);
  });
}
