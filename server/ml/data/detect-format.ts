// Which dataset format a folder holds, and why (the evidence is shown to the user on import).
import { DatasetError, type DetectIndex, type DetectReadOptions } from "./detect-index";
import { DATASET_FORMATS, type DatasetFormat } from "./formats";
import { isYamlPath, readYolo } from "./yolo";

export interface DetectedFormat {
  format: DatasetFormat;
  task: "classify" | "detect";
  /** Files or folders (relative to root) that decided the format. */
  evidence: string[];
}

/** The first format of the registry whose sniffer finds evidence in root. */
export async function detectFormat(root: string): Promise<DetectedFormat> {
  for (const entry of DATASET_FORMATS) {
    const evidence = await entry.sniff(root);
    if (evidence.length > 0) return { format: entry.name, task: entry.task, evidence };
  }
  const expected = DATASET_FORMATS.map((entry) => entry.expects);
  throw new DatasetError(`unrecognised dataset layout in ${root}: expected ${expected.slice(0, -1).join(", ")} or ${expected.at(-1)}`);
}

/** Reads any detection dataset into a DetectIndex, whatever its format; a .yaml path is a YOLO data.yaml. */
export async function readDetectDataset(root: string, opts: DetectReadOptions = {}): Promise<DetectIndex> {
  if (isYamlPath(root)) return readYolo(root, opts);
  const { format, evidence } = await detectFormat(root);
  const entry = DATASET_FORMATS.find((candidate) => candidate.name === format)!;
  if (entry.task !== "detect") throw new DatasetError(`${root} is a classification dataset (${format}: ${evidence.join(", ")}), not a detection dataset`);
  return entry.read(root, opts);
}
