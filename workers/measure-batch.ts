import { measureZooModel } from "@/server/ml/train/autobatch";

/**
 * One AutoBatch measurement in its own process (server/system/measure-batch.ts starts it): a step's
 * memory takes gigabytes and seconds, which the worker's event loop and heap must not carry.
 * Argument: {model, imgsz, numClasses, device}; prints the result as one JSON line.
 */
const request = JSON.parse(process.argv[2] ?? "{}") as Parameters<typeof measureZooModel>[0];
try {
  const { backend, budget, fit, workers } = await measureZooModel(request);
  process.stdout.write(`${JSON.stringify({ ok: true, backend: backend.backend, description: backend.description, budget, fit, workers })}\n`);
  process.exit(0);
} catch (error) {
  process.stdout.write(`${JSON.stringify({ ok: false, error: (error as Error).message })}\n`);
  process.exit(1);
}
