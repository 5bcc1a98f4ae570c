import type { ResponseDoc, RouteDoc, RouteTable } from "./route-docs";
import { restErrorEnvelope } from "./rest-error";

/** An answer that is a file's bytes. */
export const binary = (description: string, contentType = "application/octet-stream"): ResponseDoc => ({ description, contentType });

/** The multipart fields the upload handlers read (server/datasets/upload.ts, server/weights/upload.ts), on every face that takes them. */
export const uploadForms = {
  dataset: {
    file: { description: "The dataset as a .zip.", binary: true, required: true },
    name: { description: "Default: the file's name." },
    description: { description: "A remark." },
    project_id: { description: "Default: the team's default project." },
  },
  weights: {
    file: { description: "The weights file (.pt/.pth, .onnx, .ckpt, zipped TF.js).", binary: true, required: true },
    project_id: { description: "Default: the team's default project." },
    name: { description: "Default: the file's name." },
    description: { description: "A remark." },
    tags: { description: "Comma-separated tags, or a JSON list." },
    model: { description: "The zoo model a plain state_dict is for." },
    architecture_id: { description: "The architecture a plain state_dict is for." },
  },
  /** Beside the images: the predict thresholds most clients set. */
  predictThresholds: { conf: { description: "Confidence threshold (0.25)." }, iou: { description: "NMS IoU (0.7)." } },
} satisfies Record<string, NonNullable<RouteDoc["form"]>>;

/** The studio's own HTTP routes: what its pages call besides tRPC. */
export const studioApi: RouteTable = {
  name: "studio",
  description:
    "The studio's own routes: tRPC for its pages, next-auth's sign-in, and plain HTTP for what tRPC cannot carry (streamed uploads and downloads, images, plots). A session cookie or a Bearer credential (API key or JWT); errors as `{detail}`.",
  errorEnvelope: restErrorEnvelope,
  routes: {
    "GET /api/auth/{nextauth}": {
      summary: "next-auth (session, CSRF token, providers)",
      description: "next-auth's own routes under /api/auth/ (`session`, `csrf`, `providers`, `signout` …); the catch-all parameter may hold several segments.",
      params: { nextauth: "next-auth's action, e.g. `session`." },
      responses: { 200: "next-auth's answer." },
      open: "next-auth's sign-in pages and session check",
    },
    "POST /api/auth/{nextauth}": {
      summary: "next-auth sign-in and sign-out",
      description: "The login form posts to `callback/credentials`; repeated failed sign-ins are refused for a while (429). The body is limited to STUDIO_JSON_MAX_KB.",
      params: { nextauth: "next-auth's action, e.g. `callback/credentials`." },
      responses: { 200: "next-auth's answer (sets the session cookie)." },
      open: "signing in is how a browser gets its session",
    },
    "GET /api/trpc/{trpc}": {
      summary: "tRPC queries",
      description: "The studio pages' queries (superjson); each procedure validates its input with the domain's zod schema and filters by the caller's team.",
      params: { trpc: "The procedure, e.g. `experiments.byId` (several, comma-separated, for a batch)." },
      queryParams: { input: "The procedure's input as superjson `{json: …}`." },
      responses: { 200: "tRPC's answer." },
    },
    "POST /api/trpc/{trpc}": {
      summary: "tRPC mutations",
      description: "The studio pages' mutations (superjson); same-origin JSON only when sent with the session cookie.",
      params: { trpc: "The procedure, e.g. `experiments.delete`." },
      responses: { 200: "tRPC's answer." },
    },
    "GET /api/health": {
      summary: "Health",
      description: "Database, queue, training workers and realtime sidecar: each check's status for anyone, the details (versions, workers, errors) for a logged-in caller. 503 when a required check is down.",
      responses: { 200: "`{status: \"up\", checks}`.", 503: "`{status: \"down\", checks}`." },
      open: "load balancers and the start command poll it",
    },
    "POST /api/datasets": {
      summary: "Upload a dataset",
      description: "The Datasets page's streamed `.zip` upload; the import runs on a worker and the answer has status `importing`.",
      form: uploadForms.dataset,
      responses: { 201: "The dataset, status importing." },
    },
    "GET /api/datasets/{id}/images/{itemId}": {
      summary: "A dataset image",
      description: "The stored image, or with `?thumb=1` its thumbnail.",
      params: { id: "The dataset's id.", itemId: "The image's id." },
      queryParams: { thumb: "`1` for the thumbnail." },
      responses: { 200: binary("The image.", "image/*") },
    },
    "GET /api/experiments/{id}/plots/{name}": {
      summary: "A run's plot",
      description: "A PNG of the run's plots/ folder (results.png, confusion_matrix.png …).",
      params: { id: "The experiment's id.", name: "The plot's file name." },
      responses: { 200: binary("The plot.", "image/png") },
    },
    "POST /api/inference/predict": {
      summary: "Predict on uploaded images",
      description: "The Inference page's batch: images through a weights entry (ONNX Runtime), with the predict parameters as fields.",
      form: {
        images: { description: "The images (repeatable).", binary: true, required: true },
        weights_id: { description: "The weights entry (`model_id` is read too).", required: true },
        ...uploadForms.predictThresholds,
      },
      responses: { 200: "The predict result: per image, detections or top-k classes, with timings." },
    },
    "POST /api/weights": {
      summary: "Upload weights",
      description: "The Weights page's streamed upload; the file is inspected (pickles are never run) and filed in the library.",
      form: uploadForms.weights,
      responses: { 201: "The entry." },
    },
    "GET /api/weights/{id}/download": {
      summary: "Download weights",
      description: "The entry's file as an attachment, streamed; ranges are served for resuming.",
      params: { id: "The entry's id." },
      responses: { 200: binary("The file."), 206: binary("The requested range.") },
    },
    "GET /openapi.json": {
      summary: "This document",
      description: "The OpenAPI 3.1 description of every REST route, built from the route tables and the zod schemas the handlers parse with; the studio shows it at /docs.",
      responses: { 200: "The OpenAPI document." },
    },
  },
};
