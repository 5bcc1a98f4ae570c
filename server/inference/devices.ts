import { execFile } from "node:child_process";
import { readdir } from "node:fs/promises";
import path from "node:path";
import { env } from "@/server/env";
import { cudaBuildPresent } from "./sessions";

export interface InferenceDevices {
  /** Video capture devices of the host (`/dev/video*`), by their number. */
  cameras: { id: string; path: string }[];
  /** Video files under the import roots, and the URLs of STUDIO_STREAM_URLS (credentials hidden), a stream can read. */
  sources: { id: string; kind: "file" | "url"; path: string }[];
  /** Where models run: the CPU, and CUDA when onnxruntime-node's GPU build is installed. */
  compute: { id: string; kind: "cpu" | "cuda"; available: boolean }[];
  /** Streams decode with ffmpeg; without it they cannot start. */
  ffmpeg: boolean;
}

export const VIDEO_EXTENSIONS = new Set([".mp4", ".avi", ".mkv", ".mov", ".webm", ".mjpeg", ".mjpg"]);
const SOURCE_DEPTH = 2;
const MAX_SOURCES = 200;

export async function listCameras(dev = "/dev"): Promise<InferenceDevices["cameras"]> {
  const names = await readdir(dev).catch(() => [] as string[]);
  return names
    .filter((name) => /^video\d+$/.test(name))
    .map((name) => ({ id: name.slice("video".length), path: path.join(dev, name) }))
    .sort((a, b) => Number(a.id) - Number(b.id));
}

async function videoFiles(dir: string, depth: number, found: string[]): Promise<void> {
  if (found.length >= MAX_SOURCES) return;
  const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
  for (const entry of entries) {
    const full = path.join(dir, entry.name);
    if (entry.isFile() && VIDEO_EXTENSIONS.has(path.extname(entry.name).toLowerCase())) found.push(full);
    else if (entry.isDirectory() && depth > 0 && !entry.name.startsWith(".")) await videoFiles(full, depth - 1, found);
    if (found.length >= MAX_SOURCES) return;
  }
}

/** A URL as members may see it: a user name and password in it are the camera's secret. */
export function withoutCredentials(url: string): string {
  const parsed = new URL(url);
  if (!parsed.username && !parsed.password) return url;
  parsed.username = "***";
  parsed.password = "";
  return parsed.href;
}

export function ffmpegAvailable(): Promise<boolean> {
  return new Promise((resolve) => execFile("ffmpeg", ["-version"], { timeout: 5000 }, (error) => resolve(!error)));
}

export async function listInferenceDevices(): Promise<InferenceDevices> {
  const files: string[] = [];
  for (const root of env().importRoots) await videoFiles(root, SOURCE_DEPTH, files);
  const [cameras, ffmpeg] = await Promise.all([listCameras(), ffmpegAvailable()]);
  return {
    cameras,
    sources: [
      ...files.map((file, i) => ({ id: `file:${i + 1}`, kind: "file" as const, path: file })),
      ...env().streamUrls.map((url, i) => ({ id: `url:${i + 1}`, kind: "url" as const, path: withoutCredentials(url) })),
    ],
    compute: [
      { id: "cpu", kind: "cpu", available: true },
      { id: "cuda:0", kind: "cuda", available: cudaBuildPresent() },
    ],
    ffmpeg,
  };
}
