// Picks each choice point's formulation by timing it: a micro-graph per candidate (just that
// forward or backward piece, at the layer's shape) in a session with the training session's options,
// run round-robin; the lowest lower quartile wins (a busy host slows runs at random, the faster runs
// show what a candidate costs). Choices are cached per (host, provider, threads, ORT version) and
// shape, in memory and in a JSON file under the OS cache folder (or the caller's folder).
import { mkdir, readFile, rename, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { TrainGraph } from "./builder";
import { convFilterGrad, convForward, convInputGrad, type ConvSpec, type FilterGradForm, type ForwardForm, type InputGradForm } from "./conv-grads";
import { avgPoolBackward, maxPoolBackward, maxPoolForward, type AvgPoolForm, type MaxPoolForm } from "./pool-grads";
import type { ChoicePoint } from "./emitter";
import { createOrtSession, ort, ortVersion, type OrtTarget } from "./session";
import { choiceKey } from "./train-graph";

const CACHE_FILE = "ort-formulations.json";
const CACHE_FORMAT = 1;

export interface FormulationOptions {
  target: OrtTarget;
  /** Folder of the choice cache; default: the OS cache folder. null: memory only. */
  cacheDir?: string | null;
  /** Milliseconds of timed runs per choice point (after warm-up); default 250. */
  budgetMs?: number;
  log?: (message: string) => void;
}

export interface MeasuredChoice {
  choice: string;
  /** Milliseconds per candidate (lower quartile of the timed runs). */
  ms: Record<string, number>;
}

interface CacheFile {
  format: number;
  hosts: Record<string, Record<string, MeasuredChoice>>;
}

/** The OS's per-user cache folder for the studio: $XDG_CACHE_HOME, ~/Library/Caches, %LOCALAPPDATA%, else ~/.cache. */
export function defaultCacheDir(): string {
  const home = os.homedir();
  const base =
    process.env.XDG_CACHE_HOME ||
    (process.platform === "darwin" ? path.join(home, "Library", "Caches") : process.platform === "win32" ? process.env.LOCALAPPDATA || path.join(home, "AppData", "Local") : path.join(home, ".cache"));
  return path.join(base, "training-studio");
}

/** What makes timings comparable: the machine, the provider and its threads, the ORT version. */
export function hostKey(target: OrtTarget): string {
  const cpu = os.cpus()[0]?.model?.trim() ?? "unknown cpu";
  const provider = target.provider === "cuda" ? `cuda:${target.deviceId}` : `cpu×${target.threads ?? os.availableParallelism()}`;
  return `${os.hostname()} | ${cpu} | ${os.availableParallelism()} cores | ort ${ortVersion()} | ${provider} | ${target.graphOptimizationLevel ?? "all"}`;
}

const memory = new Map<string, MeasuredChoice>();

async function readCache(dir: string): Promise<CacheFile> {
  try {
    const parsed = JSON.parse(await readFile(path.join(dir, CACHE_FILE), "utf8")) as CacheFile;
    if (parsed.format === CACHE_FORMAT && parsed.hosts && typeof parsed.hosts === "object") return parsed;
  } catch {
    // missing or unreadable: start afresh
  }
  return { format: CACHE_FORMAT, hosts: {} };
}

async function writeCache(dir: string, host: string, entries: Map<string, MeasuredChoice>): Promise<void> {
  await mkdir(dir, { recursive: true });
  // Merge with what other processes wrote meanwhile, then replace the file atomically.
  const cache = await readCache(dir);
  cache.hosts[host] = { ...cache.hosts[host], ...Object.fromEntries(entries) };
  const file = path.join(dir, CACHE_FILE);
  const temp = `${file}.${process.pid}.${Date.now()}.tmp`;
  await writeFile(temp, JSON.stringify(cache, null, 1));
  await rename(temp, file);
}

function randomData(size: number, seed: number): Float32Array {
  const out = new Float32Array(size);
  let state = seed >>> 0 || 1;
  for (let i = 0; i < size; i++) {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    out[i] = state / 2 ** 32 - 0.5;
  }
  return out;
}

/** A graph computing only this candidate's piece, with random inputs of the layer's shapes. */
function microGraph(point: ChoicePoint, candidate: string): { bytes: Uint8Array; feeds: Record<string, ort.Tensor> } {
  const s: ConvSpec = point.spec;
  const g = new TrainGraph();
  const dyShape = [s.n, s.co, s.ho, s.wo];
  const feeds: Record<string, ort.Tensor> = {};
  const feed = (name: string, dims: number[], seed: number) => {
    g.input(name, dims);
    feeds[name] = new ort.Tensor("float32", randomData(dims.reduce((a, b) => a * b, 1), seed), dims);
    return name;
  };
  const block = point.nchwcBlock ?? 0;
  if (point.kind === "conv-fwd") {
    const x = feed("x", [s.n, s.c, s.h, s.w], 1);
    const w = feed("w", [s.co, s.c / s.group, s.kh, s.kw], 3);
    g.output("out", convForward(g, s, candidate as ForwardForm, x, w, null, block).z, dyShape);
    return { bytes: g.toBytes("micro"), feeds };
  }
  const dy = feed("dy", dyShape, 2);
  if (point.kind === "conv-dw") {
    const x = feed("x", [s.n, s.c, s.h, s.w], 1);
    g.output("out", convFilterGrad(g, s, candidate as FilterGradForm, x, dy), [s.co, s.c / s.group, s.kh, s.kw]);
  } else if (point.kind === "maxpool") {
    // Forward and backward: the forms differ in what the forward pool computes.
    const x = feed("x", [s.n, s.c, s.h, s.w], 1);
    const tape = maxPoolForward(g, s, candidate as MaxPoolForm, x);
    g.output("y", tape.y, dyShape);
    g.output("out", maxPoolBackward(g, s, candidate as MaxPoolForm, tape, dy), [s.n, s.c, s.h, s.w]);
  } else if (point.kind === "avgpool") {
    g.output("out", avgPoolBackward(g, s, candidate as AvgPoolForm, dy, false), [s.n, s.c, s.h, s.w]);
  } else {
    const w = feed("w", [s.co, s.c / s.group, s.kh, s.kw], 3);
    g.output("out", convInputGrad(g, s, candidate as InputGradForm, dy, w, block), [s.n, s.c, s.h, s.w]);
  }
  return { bytes: g.toBytes("micro"), feeds };
}

/** The lower quartile: other processes only ever add time, so the faster runs say what a candidate costs. */
const lowerQuartile = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor((values.length - 1) / 4)];

/** Times every candidate of one point round-robin; returns the lower quartile of ms per candidate. */
export async function measureChoice(point: ChoicePoint, target: OrtTarget, budgetMs = 250): Promise<MeasuredChoice> {
  const runs = await Promise.all(
    point.candidates.map(async (candidate) => {
      const { bytes, feeds } = microGraph(point, candidate);
      return { candidate, session: await createOrtSession(bytes, target), feeds, times: [] as number[] };
    }),
  );
  try {
    for (const run of runs) for (let i = 0; i < 2; i++) await run.session.run(run.feeds);
    const started = performance.now();
    for (let round = 0; round < 3 || (round < 50 && performance.now() - started < budgetMs); round++) {
      for (const run of runs) {
        const t0 = performance.now();
        await run.session.run(run.feeds);
        run.times.push(performance.now() - t0);
      }
    }
  } finally {
    await Promise.all(runs.map((run) => run.session.release()));
  }
  const ms = Object.fromEntries(runs.map((run) => [run.candidate, Math.round(lowerQuartile(run.times) * 1000) / 1000]));
  const choice = runs.reduce((best, run) => (ms[run.candidate] < ms[best.candidate] ? run : best)).candidate;
  return { choice, ms };
}

/**
 * The formulation per choice point key: from the memory or disk cache when this host measured the
 * shape before, else measured now (and cached). Points with one candidate are not measured.
 */
export async function chooseFormulations(points: ChoicePoint[], opts: FormulationOptions): Promise<Map<string, MeasuredChoice>> {
  const host = hostKey(opts.target);
  const cacheDir = opts.cacheDir === undefined ? defaultCacheDir() : opts.cacheDir;
  const result = new Map<string, MeasuredChoice>();
  const unique = new Map<string, ChoicePoint>();
  for (const point of points) if (point.candidates.length > 1) unique.set(choiceKey(point), point);
  let disk: CacheFile | undefined;
  const measured = new Map<string, MeasuredChoice>();
  for (const [key, point] of unique) {
    const cached = memory.get(`${host}\u0000${key}`) ?? (cacheDir ? (disk ??= await readCache(cacheDir)).hosts[host]?.[key] : undefined);
    // A choice counts only if every current candidate was timed with it (new formulations get measured).
    if (cached && point.candidates.includes(cached.choice) && point.candidates.every((c) => c in cached.ms)) {
      result.set(key, cached);
      continue;
    }
    const choice = await measureChoice(point, opts.target, opts.budgetMs);
    opts.log?.(`formulation ${key}: ${choice.choice} (${Object.entries(choice.ms).map(([c, t]) => `${c} ${t} ms`).join(", ")})`);
    measured.set(key, choice);
    result.set(key, choice);
  }
  for (const [key, choice] of result) memory.set(`${host}\u0000${key}`, choice);
  if (cacheDir && measured.size > 0) {
    try {
      await writeCache(cacheDir, host, measured);
    } catch (error) {
      opts.log?.(`could not write the formulation cache in ${cacheDir}: ${(error as Error).message}`);
    }
  }
  return result;
}

/**
 * A measured choice under `key` for this host (memory, then disk cache), else `measure()`'s, cached.
 * For choices beyond single layers, e.g. a whole training graph's optimisation level.
 */
export async function cachedChoice(key: string, opts: FormulationOptions, measure: () => Promise<MeasuredChoice>): Promise<MeasuredChoice> {
  const host = hostKey(opts.target);
  const cacheDir = opts.cacheDir === undefined ? defaultCacheDir() : opts.cacheDir;
  const cached = memory.get(`${host}\u0000${key}`) ?? (cacheDir ? (await readCache(cacheDir)).hosts[host]?.[key] : undefined);
  if (cached) {
    memory.set(`${host}\u0000${key}`, cached);
    return cached;
  }
  const choice = await measure();
  opts.log?.(`${key}: ${choice.choice} (${Object.entries(choice.ms).map(([c, t]) => `${c} ${t} ms`).join(", ")})`);
  memory.set(`${host}\u0000${key}`, choice);
  if (cacheDir) await writeCache(cacheDir, host, new Map([[key, choice]])).catch((error: Error) => opts.log?.(`could not write the formulation cache in ${cacheDir}: ${error.message}`));
  return choice;
}

/** Times whole sessions round-robin (`runs` each per round); lower quartile of ms per candidate, fastest chosen. */
export async function timeSessions(candidates: { name: string; run: () => Promise<unknown> }[], rounds = 4, runs = 2): Promise<MeasuredChoice> {
  const times = new Map(candidates.map((c) => [c.name, [] as number[]]));
  for (const c of candidates) await c.run();
  for (let round = 0; round < rounds; round++) {
    for (const c of candidates) {
      const t0 = performance.now();
      for (let i = 0; i < runs; i++) await c.run();
      times.get(c.name)!.push((performance.now() - t0) / runs);
    }
  }
  const ms = Object.fromEntries([...times].map(([name, t]) => [name, Math.round(lowerQuartile(t) * 1000) / 1000]));
  const choice = candidates.map((c) => c.name).reduce((best, name) => (ms[name] < ms[best] ? name : best));
  return { choice, ms };
}

/** Forgets the in-memory choices (tests). */
export function clearFormulationMemory(): void {
  memory.clear();
}
