import type { RouteTable } from "@/server/http/route-docs";
import { restErrorEnvelope } from "@/server/http/rest-error";
import { startBody } from "./mapper";

const task = { task_id: "The task's id (an experiment id)." };

/** Seed 001's routes (`/api/v2/training/…`), as ../shared/seeds/001_… describes them. */
export const trainingMetricsApi: RouteTable = {
  name: "seed 001 · training metrics",
  description:
    "The training service with detailed metrics: `latest_metrics`, `current_epoch`, string `task_id`s, and the log stream as Server-Sent Events with each line's `stage`. Bearer: an API key or a JWT. Errors in FastAPI's `{detail}`.",
  errorEnvelope: restErrorEnvelope,
  routes: {
    "POST /api/v2/training/start": {
      summary: "Start training on a server folder",
      description:
        "Imports the ImageFolder at `train_path` (with `val_path`, the train and val folders of one dataset folder) from a folder under STUDIO_IMPORT_ROOTS and starts a task on it as soon as the import is done. `save_path`, when given, receives the weights and results of a completed run.",
      body: startBody,
      responses: { 200: "The task: `{task_id, task_type, status, progress, device, current_epoch, total_epochs, latest_metrics, created_at, updated_at}`." },
    },
    "GET /api/v2/training/{task_id}": {
      summary: "A task's status with its latest metrics",
      description: "The task's status, progress, epochs and `latest_metrics` (the last finished epoch's, in the service's names), and `error` when it failed.",
      params: task,
      responses: { 200: "The task, as POST /api/v2/training/start answers it." },
    },
    "GET /api/v2/training/{task_id}/logs": {
      summary: "The task's log stream (Server-Sent Events)",
      description:
        "Every log line after `Last-Event-ID` (or `?since=`), then new ones as the run writes them; each event's id is the line's sequence number, so a reconnecting client misses nothing. The stream ends after the last line of a finished run.",
      params: task,
      queryParams: { since: "Resume after this sequence number (what Last-Event-ID says, for clients that cannot set it)." },
      responses: { 200: { description: "`data: {timestamp, level, message, metrics?, stage}` events.", contentType: "text/event-stream" } },
    },
  },
};
