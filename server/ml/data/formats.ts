// The dataset formats the engine reads, one entry each: adding a format is adding an entry here
// (its sniffer in sniff.ts, its reader beside the others). Detection and every reader go through it.
import { readCoco } from "./coco";
import type { DetectIndex, DetectReadOptions } from "./detect-index";
import { readImageFolder, type ClassifyIndex } from "./imagefolder";
import { sniffCoco, sniffImageFolder, sniffVoc, sniffYolo } from "./sniff";
import { readVoc } from "./voc";
import { readYolo } from "./yolo";

interface FormatEntry<Task extends string, Index> {
  name: string;
  task: Task;
  /** What the layout looks like, for the message when no format matches. */
  expects: string;
  /** Evidence that root holds this format (paths relative to root); empty when it does not. */
  sniff(root: string): Promise<string[]>;
  read(root: string, opts?: DetectReadOptions): Promise<Index>;
}

export type DatasetFormatEntry = FormatEntry<"classify", ClassifyIndex> | FormatEntry<"detect", DetectIndex>;

/** In sniffing order: the most specific layouts first (a VOC or COCO folder may also hold class-like folders). */
export const DATASET_FORMATS = [
  { name: "voc", task: "detect", expects: "Annotations/*.xml (VOC)", sniff: sniffVoc, read: readVoc },
  { name: "coco", task: "detect", expects: "a COCO instances .json", sniff: sniffCoco, read: readCoco },
  { name: "yolo", task: "detect", expects: "data.yaml / classes.txt / labels/ (YOLO)", sniff: sniffYolo, read: readYolo },
  { name: "imagefolder", task: "classify", expects: "class folders of images (ImageFolder)", sniff: sniffImageFolder, read: readImageFolder },
] as const satisfies readonly DatasetFormatEntry[];

export type DatasetFormat = (typeof DATASET_FORMATS)[number]["name"];
export type DetectFormat = Extract<(typeof DATASET_FORMATS)[number], { task: "detect" }>["name"];

export function datasetFormat(name: DatasetFormat): DatasetFormatEntry {
  return DATASET_FORMATS.find((entry) => entry.name === name)!;
}

/** Reads root with the reader of `format` (as detected or stored). */
export function readDataset(root: string, format: DatasetFormat, opts: DetectReadOptions = {}): Promise<ClassifyIndex | DetectIndex> {
  return datasetFormat(format).read(root, opts);
}
