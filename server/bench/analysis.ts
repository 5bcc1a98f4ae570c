/**
 * The run-comparison metric (diffMetric: mAP50 of two validations and a paired bootstrap 95% interval of the
 * change) on a synthetic 500-image detection validation at conf 0.001: 300 boxes per image (150k box rows per
 * side), 80 classes (COCO's), ~7 labelled boxes per image. First on the judged rows alone, the plain implementation
 * (bootstrap-reference.ts) against the fast one, in the same run, same seed, and the two intervals compared
 * bit for bit; then through diffMetric on a real embedded PostgreSQL holding the same rows: first call,
 * repeated (cached) call. Each with the longest event-loop stall while it ran (monitorEventLoopDelay).
 * One JSON line per figure.
 *   npm run bench:analysis -- [--resamples 1000] [--repeat 3] [--classes 80] [--no-plain (skip the plain implementation: minutes under load)]
 */
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { monitorEventLoopDelay, performance } from "node:perf_hooks";
import { parseArgs } from "node:util";

const { values } = parseArgs({ options: { resamples: { type: "string", default: "1000" }, repeat: { type: "string", default: "3" }, classes: { type: "string", default: "80" }, "no-plain": { type: "boolean", default: false } } });
const RESAMPLES = Number(values.resamples);
const REPEAT = Number(values.repeat);
const SEED = 0;
const IMAGES = 500;
const BOXES_PER_IMAGE = 300;
const CLASSES = Number(values.classes);

const work = await mkdtemp(path.join(os.tmpdir(), "bench-analysis-"));
process.env.STUDIO_DATA_DIR = path.join(work, "data");

// Imported after the environment is set: env() is read once.
const { startBenchDatabase } = await import("./bench-db");
const { bootstrapInterval, judgedBoxes, seededRandom, weightedMap50 } = await import("@/server/analysis/bootstrap");
type JudgedBoxes = import("@/server/analysis/bootstrap").JudgedBoxes;
const { referenceBootstrapInterval, referenceJudgedBoxes, referenceWeightedMap50 } = await import("@/server/analysis/bootstrap-reference");
const { diffMetric } = await import("@/server/analysis/diff-metric");
const schema = await import("@/db/schema");

const print = (figure: Record<string, unknown>) => console.log(JSON.stringify({ bench: "analysis", load: os.loadavg().map((v) => +v.toFixed(2)), ...figure }));
const ms = (value: number) => +value.toFixed(1);

type Box = { image: number; cls: number; score: number; hit: boolean };
type Truth = { image: number; cls: number };

/**
 * One model's judged rows: each labelled box is found with probability `recall` by a box scoring high, the
 * rest of the 300 boxes per image are false positives, mostly low-scoring (the tail conf 0.001 keeps).
 * Hits score anywhere down to the threshold (as a detector's do at conf 0.001). Scores are float32, as
 * the outcome table stores them.
 */
function judgedRows(truths: Truth[], recall: number, seed: number): Box[] {
  const random = seededRandom(seed);
  const boxes: Box[] = [];
  for (let image = 0; image < IMAGES; image++) {
    const mine = truths.filter((t) => t.image === image);
    for (const t of mine) if (random() < recall) boxes.push({ image, cls: t.cls, score: Math.fround(0.001 + 0.999 * random() ** 0.5), hit: true });
    while (boxes.length < (image + 1) * BOXES_PER_IMAGE) {
      const score = random() < 0.05 ? 0.2 + 0.8 * random() : 0.001 + 0.2 * random() ** 3;
      boxes.push({ image, cls: Math.floor(random() * CLASSES), score: Math.fround(score), hit: false });
    }
  }
  return boxes;
}

/** Runs `work` with the event loop's delay sampled every millisecond: its time and the longest stall. */
async function timed<T>(work: () => T | Promise<T>): Promise<{ result: T; ms: number; stallMs: number }> {
  const histogram = monitorEventLoopDelay({ resolution: 1 });
  histogram.enable();
  // Its first sample only starts the clock: let it take one before the work.
  await new Promise((resolve) => setTimeout(resolve, 5));
  const start = performance.now();
  const result = await work();
  const elapsed = performance.now() - start;
  // One more turn so a stall at the very end is sampled.
  await new Promise((resolve) => setTimeout(resolve, 2));
  histogram.disable();
  return { result, ms: elapsed, stallMs: histogram.max / 1e6 };
}

const median = (xs: number[]) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)];

const random = seededRandom(1);
const truths: Truth[] = [];
for (let image = 0; image < IMAGES; image++) for (let k = Math.floor(random() * 15); k > 0; k--) truths.push({ image, cls: Math.floor(random() * CLASSES) });
const rowsA = judgedRows(truths, 0.55, 2);
const rowsB = judgedRows(truths, 0.6, 3);
print({ case: "data", images: IMAGES, classes: CLASSES, boxRowsA: rowsA.length, boxRowsB: rowsB.length, truthRows: truths.length, hitsA: rowsA.filter((b) => b.hit).length, resamples: RESAMPLES });

const interval = (ja: JudgedBoxes, jb: JudgedBoxes) => bootstrapInterval(IMAGES, (w) => weightedMap50(jb, w) - weightedMap50(ja, w), { resamples: RESAMPLES, seed: SEED });
const sameBits = (x: readonly number[], y: readonly number[]) => x.every((v, i) => Object.is(v, y[i]));

let plain: { ms: number; ci95: [number, number]; a: number } | null = null;
if (!values["no-plain"]) {
  const judge = await timed(() => [referenceJudgedBoxes(CLASSES, IMAGES, rowsA, truths), referenceJudgedBoxes(CLASSES, IMAGES, rowsB, truths)]);
  const [pa, pb] = judge.result;
  const run = await timed(() => referenceBootstrapInterval(IMAGES, (w) => referenceWeightedMap50(pb, w) - referenceWeightedMap50(pa, w), { resamples: RESAMPLES, seed: SEED }));
  plain = { ms: run.ms, ci95: run.result, a: referenceWeightedMap50(pa) };
  print({ case: "plain (before)", judgeMs: ms(judge.ms), intervalMs: ms(run.ms), stallMs: ms(Math.max(judge.stallMs, run.stallMs)), ci95: run.result });
}

const fastRuns: { judgeMs: number; judgeStallMs: number; intervalMs: number; stallMs: number; ci95: [number, number] }[] = [];
let fastA = 0;
for (let round = 0; round < REPEAT; round++) {
  const judge = await timed(() => [judgedBoxes(CLASSES, IMAGES, rowsA, truths), judgedBoxes(CLASSES, IMAGES, rowsB, truths)]);
  const [fa, fb] = judge.result;
  fastA = weightedMap50(fa);
  const fast = await timed(() => interval(fa, fb));
  fastRuns.push({ judgeMs: judge.ms, judgeStallMs: judge.stallMs, intervalMs: fast.ms, stallMs: fast.stallMs, ci95: fast.result });
}
const fastInterval = median(fastRuns.map((r) => r.intervalMs));
print({
  case: "fast (after)",
  judgeMs: ms(median(fastRuns.map((r) => r.judgeMs))),
  judgeStallMs: ms(Math.max(...fastRuns.map((r) => r.judgeStallMs))),
  intervalMs: ms(fastInterval),
  intervalStallMs: ms(Math.max(...fastRuns.map((r) => r.stallMs))),
  ci95: fastRuns[0].ci95,
  ...(plain ? { intervalSpeedup: +(plain.ms / fastInterval).toFixed(1), sameBitsAsPlain: fastRuns.every((r) => sameBits(r.ci95, plain.ci95)) && Object.is(fastA, plain.a) } : {}),
});

const db = await startBenchDatabase(work);
try {
  const { ctx, projectId } = db;
  const paths = Array.from({ length: IMAGES }, (_, i) => `val/${String(i).padStart(4, "0")}.jpg`);
  const [dataset] = await ctx.db.insert(schema.datasets).values({ projectId, name: "bench", task: "detect", status: "ready", classes: Array.from({ length: CLASSES }, (_, c) => `c${c}`), progress: 1 }).returning();
  const params = { imgsz: 640, batch: 16, conf: 0.001, iou: 0.7, device: "cpu", saveJson: false, plots: false, resplit: null };
  const side = async (name: string, boxes: Box[]) => {
    const [run] = await ctx.db.insert(schema.experiments).values({ projectId, name, task: "detect", datasetId: dataset.id, model: "yolov8n", hyperparameters: {}, status: "completed" }).returning();
    const [validation] = await ctx.db
      .insert(schema.validations)
      .values({ projectId, experimentId: run.id, datasetId: dataset.id, split: "val", task: "detect", classNames: dataset.classes, params, status: "completed", outcomesRecorded: true, finishedAt: new Date() })
      .returning();
    const images = await ctx.db
      .insert(schema.validationPredictions)
      .values(paths.map((p) => ({ validationId: validation.id, path: p, width: 640, height: 480, predicted: { boxes: [] }, truth: { boxes: [] } })))
      .returning({ id: schema.validationPredictions.id });
    const rows = [
      ...boxes.map((b) => ({ validationId: validation.id, predictionId: images[b.image].id, kind: "box" as const, cls: b.cls, confidence: b.score, matched: b.hit })),
      ...truths.map((t) => ({ validationId: validation.id, predictionId: images[t.image].id, kind: "truth" as const, cls: t.cls, confidence: null, matched: false })),
    ];
    for (let start = 0; start < rows.length; start += 2000) await ctx.db.insert(schema.validationOutcomes).values(rows.slice(start, start + 2000));
    return run.id;
  };
  const stored = await timed(async () => [await side("a", rowsA), await side("b", rowsB)]);
  print({ case: "stored rows", seconds: +(stored.ms / 1000).toFixed(1) });
  const [runA, runB] = stored.result;
  const asked = { a: String(runA), b: String(runB), seed: SEED, resamples: RESAMPLES };
  const first = await timed(() => diffMetric(ctx, asked));
  const sameAsFast = sameBits(first.result.ci95, fastRuns[0].ci95) && Object.is(first.result.a, fastA);
  print({ case: "diffMetric first call (rows read + judged + interval)", ms: ms(first.ms), stallMs: ms(first.stallMs), ci95: first.result.ci95, sameBitsAsFast: sameAsFast });
  const cached: number[] = [];
  let cachedStall = 0;
  for (let round = 0; round < 20; round++) {
    const again = await timed(() => diffMetric(ctx, asked));
    cached.push(again.ms);
    cachedStall = Math.max(cachedStall, again.stallMs);
  }
  print({ case: "diffMetric cached call (authorization queries + lookup)", p50Ms: ms(median(cached)), maxMs: ms(Math.max(...cached)), stallMs: ms(cachedStall) });
} finally {
  await db.close();
  await rm(work, { recursive: true, force: true });
}
