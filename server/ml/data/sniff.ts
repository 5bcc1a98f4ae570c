// Evidence that a folder holds one dataset format: the files or folders (relative to root) that say so,
// empty when they are not there. The user sees the evidence on import.
import { readdir } from "node:fs/promises";
import path from "node:path";
import { findCocoFiles } from "./coco";
import { findChildDir } from "./detect-index";
import { isImageFile } from "./imagefolder";

async function names(dir: string) {
  return readdir(dir, { withFileTypes: true }).catch(() => []);
}

async function countFiles(dir: string, test: (name: string) => boolean, limit = 1000): Promise<number> {
  let count = 0;
  for (const e of await names(dir)) {
    if (count >= limit) break;
    if (e.isFile() && test(e.name)) count++;
    else if (e.isDirectory() && !e.name.startsWith(".")) count += await countFiles(path.join(dir, e.name), test, limit - count);
  }
  return count;
}

const isTxt = (n: string) => n.toLowerCase().endsWith(".txt") && n.toLowerCase() !== "classes.txt";

export async function sniffVoc(root: string): Promise<string[]> {
  const annotations = await findChildDir(root, ["Annotations"]);
  if (!annotations) return [];
  const xml = await countFiles(annotations, (n) => n.toLowerCase().endsWith(".xml"));
  return xml > 0 ? [`${path.basename(annotations)}/ (${xml}${xml >= 1000 ? "+" : ""} .xml files)`] : [];
}

export async function sniffCoco(root: string): Promise<string[]> {
  return (await findCocoFiles(root)).map((f) => path.relative(root, f));
}

export async function sniffYolo(root: string): Promise<string[]> {
  const entries = await names(root);
  const yamlFile = entries.find((e) => e.isFile() && /^(data|dataset)\.ya?ml$/i.test(e.name));
  if (yamlFile) return [yamlFile.name];
  const evidence: string[] = [];
  if (entries.some((e) => e.isFile() && e.name.toLowerCase() === "classes.txt")) evidence.push("classes.txt");
  const labels = await findChildDir(root, ["labels"]);
  if (labels && (await countFiles(labels, isTxt)) > 0) evidence.push(`${path.basename(labels)}/ (label .txt files)`);
  for (const split of ["train", "valid", "val"]) {
    const dir = await findChildDir(root, [split]);
    const splitLabels = dir && (await findChildDir(dir, ["labels"]));
    if (splitLabels && (await countFiles(splitLabels, isTxt)) > 0) evidence.push(path.relative(root, splitLabels) + "/");
  }
  return evidence;
}

export async function sniffImageFolder(root: string): Promise<string[]> {
  const train = await findChildDir(root, ["train"]);
  const base = train ?? root;
  const classDirs: string[] = [];
  for (const e of await names(base)) {
    if (!e.isDirectory() || e.name.startsWith(".")) continue;
    const files = await names(path.join(base, e.name));
    if (files.some((f) => f.isFile() && isImageFile(f.name))) classDirs.push(path.relative(root, path.join(base, e.name)) + "/");
  }
  return classDirs.length >= 2 ? classDirs.slice(0, 5) : [];
}
