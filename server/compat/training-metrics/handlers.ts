import { readdir } from "node:fs/promises";
import path from "node:path";
import { readJson, withCaller, type HandlerDeps, type RouteContext } from "@/server/http/handler";
import { restRoute, restRouteOn } from "@/server/http/rest-route";
import type { Ctx } from "@/server/context";
import { resolveImportPath } from "@/server/datasets/import";
import { deleteDataset, startDatasetImport } from "@/server/datasets/service";
import { env } from "@/server/env";
import { Invalid, NotFound } from "@/server/errors";
import type { TopicWakeups } from "@/server/events/topic-wakeups";
import { createExperiment } from "@/server/experiments/lifecycle";
import { followExperiment, processWakeups } from "@/server/experiments/follow";
import { getExperiment } from "@/server/experiments/queries";
import { defaultProject } from "@/server/projects/service";
import {
  parseTrainingMetricsStart,
  parseTrainingMetricsTaskId,
  SSE_KEEPALIVE,
  SSE_OPENED,
  sseFrame,
  sseResumeAfter,
  trainingMetricsLogEntry,
  trainingMetricsTask,
  type TrainingMetricsStart,
} from "./mapper";
import { importQueue, queueDeps } from "@/server/compat/shared/deps";
import { restError } from "@/server/http/rest-error";

/** Seed 001 (`/api/v2/training/…`), errors in the FastAPI shape `{detail}`. */

const VAL_FOLDER_NAMES = ["val", "valid", "validation"];

/**
 * The ImageFolder to import for `train_path`/`val_path`: with a val_path, the two must be the
 * `train` and `val` folders of one dataset folder (which is imported whole, keeping its split);
 * without, train_path itself holds the class folders and validation is carved out of it.
 */
async function datasetFolder(input: TrainingMetricsStart, roots: string[]): Promise<{ root: string; classes: string[] }> {
  const train = await resolveImportPath(input.trainPath, roots);
  let root = train;
  if (input.valPath !== undefined) {
    const val = await resolveImportPath(input.valPath, roots);
    if (path.dirname(train) !== path.dirname(val) || path.basename(train).toLowerCase() !== "train" || !VAL_FOLDER_NAMES.includes(path.basename(val).toLowerCase())) {
      throw new Invalid(`train_path and val_path must be the train and val folders of one dataset folder (…/train, …/val); got ${train} and ${val}`, {
        val_path: ["not the train folder's sibling val folder"],
      });
    }
    root = await resolveImportPath(path.dirname(train), roots);
  }
  const classes = (await readdir(train, { withFileTypes: true })).filter((e) => e.isDirectory() && !e.name.startsWith(".")).map((e) => e.name);
  if (classes.length === 0) throw new Invalid(`train_path ${train} has no class folders (ImageFolder: train_path/<class>/<image>)`, { train_path: ["no class folders"] });
  return { root, classes };
}

export const startTraining = restRoute(async (ctx, req, route) => {
  const input = parseTrainingMetricsStart(await readJson(req));
  const roots = env().importRoots;
  const { root, classes } = await datasetFolder(input, roots);
  if (input.numClasses !== undefined && input.numClasses !== classes.length) {
    throw new Invalid(`num_classes is ${input.numClasses} but ${input.trainPath} has ${classes.length} class folders`, { num_classes: [`expected ${classes.length}`] });
  }
  // Checked now, like the data folders, so a bad folder is a 4xx and not a late failure; the run copies its results there.
  if (input.savePath !== undefined) await resolveImportPath(input.savePath, roots);
  const experiment = await importAndTrain(ctx, input, root, route);
  return Response.json(trainingMetricsTask(experiment));
});

async function importAndTrain(ctx: Ctx, input: TrainingMetricsStart, root: string, route: HandlerDeps) {
  const project = await defaultProject(ctx);
  const stamp = new Date().toISOString().replace(/[-:]/g, "").replace(/\.\d+Z$/, "Z");
  const name = input.name ?? `${path.basename(root)}-${stamp}`;
  const dataset = await startDatasetImport(ctx, { projectId: project.id, name, description: `Imported for training from ${root}`, source: { kind: "path", path: root } }, importQueue(route));
  // The run waits for the import to finish before it trains.
  try {
    return await createExperiment(
      ctx,
      { projectId: project.id, name, datasetId: dataset.id, model: input.model, hyperparameters: input.hyperparameters, device: input.device, saveDir: input.savePath, start: true },
      queueDeps(route),
    );
  } catch (err) {
    // The dataset was imported for this run only: a refused run leaves none behind.
    await deleteDataset(ctx, dataset.id);
    throw err;
  }
}

export const getTraining = restRouteOn<"task_id">(async (ctx, params) => Response.json(trainingMetricsTask(await getExperiment(ctx, parseTrainingMetricsTaskId(params.task_id)))));

export interface LogStreamOptions extends HandlerDeps {
  /** Wakes the stream when the run publishes an event (default: this process's LISTEN connection). */
  wakeups?: TopicWakeups;
  /** How long the stream waits for an event before reading the logs table anyway. */
  idleCheckMs?: number;
  keepaliveMs?: number;
}

/**
 * The log stream as Server-Sent Events: every line after `Last-Event-ID` (or `?since=`), then new
 * ones as the run writes them (the experiment follower: the logs table is the truth, nothing is
 * lost between reconnects, events only wake it). The stream ends after the last line of a finished run.
 */
export async function streamTrainingLogs(req: Request, route: RouteContext<"task_id"> & LogStreamOptions): Promise<Response> {
  const params = await route.params;
  const idleCheckMs = route.idleCheckMs ?? 5_000;
  const keepaliveMs = route.keepaliveMs ?? 15_000;
  return withCaller(
    req,
    restError,
    async (ctx) => {
      const id = parseTrainingMetricsTaskId(params.task_id);
      const since = sseResumeAfter(req.headers.get("last-event-id"), new URL(req.url).searchParams.get("since"));
      await getExperiment(ctx, id);
      const { wakeups } = route;
      const watch = wakeups ? (topic: string) => wakeups.watch(topic) : processWakeups;
      const ended = new AbortController();
      const end = () => ended.abort();
      req.signal.addEventListener("abort", end);
      const encoder = new TextEncoder();
      let readerGone = false;

      const stream = new ReadableStream<Uint8Array>({
        async start(controller) {
          let lastWrite = Date.now();
          const send = (text: string) => {
            controller.enqueue(encoder.encode(text));
            lastWrite = Date.now();
          };
          // At once, before any line exists: clients with short connect timeouts see the stream is open.
          send(SSE_OPENED);
          const lines = followExperiment(ctx, id, { since, watch, idleCheckMs: Math.min(idleCheckMs, keepaliveMs), untilFinished: true, signal: ended.signal });
          try {
            for await (const item of lines) {
              if (ended.signal.aborted) break;
              if (item.type === "log") send(sseFrame(item.log.seq, trainingMetricsLogEntry(item.log, item.experiment.totalEpochs)));
              else if (item.type === "caught-up" && Date.now() - lastWrite >= keepaliveMs) send(SSE_KEEPALIVE);
            }
          } catch (error) {
            // A deleted run ends its stream; anything else is logged, and the client reconnects with its last id.
            if (!ended.signal.aborted && !(error instanceof NotFound)) console.error(`[sse /api/v2/training/${id}/logs] ${(error as Error).message}`);
          } finally {
            req.signal.removeEventListener("abort", end);
            end();
            if (!readerGone) controller.close();
          }
        },
        cancel() {
          readerGone = true;
          end();
        },
      });
      return new Response(stream, {
        headers: { "content-type": "text/event-stream; charset=utf-8", "cache-control": "no-cache, no-transform", "x-accel-buffering": "no" },
      });
    },
    { db: route.db },
  );
}
