import { apiLoginInput } from "@/server/auth/api-login";
import { predictParams } from "@/server/inference/schemas";
import type { ResponseDoc, RouteTable } from "@/server/http/route-docs";
import { restErrorEnvelope } from "@/server/http/rest-error";
import { binary, uploadForms } from "@/server/http/studio-api-doc";
import { listSystemLogsInput } from "@/server/system/logs";
import { createBody as createArchitectureBody, updateBody as updateArchitectureBody } from "./architectures";
import { diffQuery, predictionsQuery } from "./analysis-mapper";
import { augmentationBody } from "./augmentations";
import { createJson as createDatasetBody, pageQuery, previewQuery, updateJson as updateDatasetBody } from "./datasets";
import { streamStartBody } from "./inference-mapper";
import { controlBody, createExperimentBody, renameBody } from "./mapper";
import { exportBody, validateBody } from "@/server/compat/training-module/weights-mapper";
import { importBody as importWeightsBody, listQuery as weightsQuery, saveBody, updateBody as updateWeightsBody } from "./weights-mapper";

const id = (what: string) => ({ id: `The ${what}'s integer id (\`w12\` is weights 12 too).` });
const done: ResponseDoc = { description: "Done; no body.", contentType: null };
const predictFields = {
  images: { description: "The images (repeatable; `image` and `file` are read too).", binary: true, required: true },
  model_id: { description: "The weights entry: `12` or `w12`.", required: true },
};

/** Seed 002's REST routes (`/api/v1/…`), as ../shared/seeds/002_… lists them; its WebSockets are served by the realtime sidecar. */
export const studioV1Api: RouteTable = {
  name: "seed 002 · studio backend",
  description:
    "The studio backend's REST API: Bearer JWT from POST /api/v1/auth/login (or an API key), 200/201/204 on success, errors `{detail}` with 400/401/404/422. The live streams are WebSockets at /ws/system, /ws/training/{experiment_id} and /ws/inference/stream.",
  errorEnvelope: restErrorEnvelope,
  routes: {
    "POST /api/v1/auth/login": {
      summary: "Log in",
      description: "Email and password → a JWT acting for the user's first team, for `Authorization: Bearer`. Repeated failed logins are refused for a while (429).",
      body: apiLoginInput,
      responses: { 200: "`{token, token_type: \"bearer\", expires_at, user}`." },
      open: "logging in is how a client gets credentials",
    },
    "POST /api/v1/auth/logout": {
      summary: "Log out",
      description: "Revokes the JWT presented as Bearer; it is refused from then on.",
      responses: { 204: done },
    },
    "GET /api/v1/system/stats": {
      summary: "A training host's live figures",
      description: "GPU, CPU, memory and disk of the busiest training host (or `?host=`), from its samples; a figure the host cannot measure is null with the reason.",
      queryParams: { host: "A training host's name." },
      responses: { 200: "`{gpu: {util, temp, vram_used, vram_total, unavailable}, cpu: {util, cores}, memory: {used, total}, disk: {usage}, host, sampled_at, reason}`." },
    },
    "GET /api/v1/system/logs": {
      summary: "System logs",
      description: "The studio's recent log lines of one kind, newest first.",
      query: listSystemLogsInput,
      responses: { 200: "`[{time, level, msg}, …]`." },
    },
    "GET /api/v1/datasets": {
      summary: "List datasets",
      description: "The team's datasets with their statistics, a page at a time; `q` searches names.",
      query: pageQuery,
      responses: { 200: "`{items, total, page, size}`." },
    },
    "POST /api/v1/datasets": {
      summary: "Import or upload a dataset",
      description:
        "A multipart `.zip` upload, or JSON `{name, path}` naming a server folder under STUDIO_IMPORT_ROOTS. The format (ImageFolder, YOLO, COCO, Pascal VOC) is recognised while a worker imports it; the answer has status `importing`.",
      body: createDatasetBody,
      form: uploadForms.dataset,
      responses: { 201: "The dataset, status importing." },
    },
    "GET /api/v1/datasets/{id}": {
      summary: "A dataset's details",
      description: "Class distribution, image sizes, empty-label rate, splits and how the format was recognised.",
      params: id("dataset"),
      responses: { 200: "The dataset with its statistics." },
    },
    "PUT /api/v1/datasets/{id}": {
      summary: "Rename a dataset or change its remark",
      description: "What is given changes.",
      params: id("dataset"),
      body: updateDatasetBody,
      responses: { 204: done },
    },
    "DELETE /api/v1/datasets/{id}": {
      summary: "Delete a dataset",
      description: "Deletes the rows and the files on disk; refused (422) while an experiment trains on it.",
      params: id("dataset"),
      responses: { 204: done },
    },
    "GET /api/v1/datasets/{id}/preview": {
      summary: "Sample images",
      description: "A page of the dataset's images with their labels or boxes and URLs of the image and its thumbnail.",
      params: id("dataset"),
      query: previewQuery,
      responses: { 200: "`{items: [{id, url, thumbnail_url, path, split, width, height, label, boxes}], total, page, limit}`." },
    },
    "GET /api/v1/augmentation": {
      summary: "List augmentation pipelines",
      description: "The team's pipelines, each with the ops training cannot run listed in `unknown_ops`.",
      responses: { 200: "`[{id, name, desc, pipeline, unknown_ops, created_at, updated_at}]`." },
    },
    "POST /api/v1/augmentation": {
      summary: "Create an augmentation pipeline",
      description: "Stores the pipeline as sent (JSONB); training checks it when it starts.",
      body: augmentationBody,
      responses: { 201: "The pipeline." },
    },
    "PUT /api/v1/augmentation/{id}": {
      summary: "Update an augmentation pipeline",
      description: "What is given changes.",
      params: id("pipeline"),
      body: augmentationBody.partial(),
      responses: { 204: done },
    },
    "DELETE /api/v1/augmentation/{id}": {
      summary: "Delete an augmentation pipeline",
      description: "Refused (422) while an experiment uses it.",
      params: id("pipeline"),
      responses: { 204: done },
    },
    "GET /api/v1/models/architectures": {
      summary: "List architectures",
      description: "The team's model graphs with their parameter counts, FLOPs and output shapes.",
      responses: { 200: "`[{id, name, task, nodes, edges, params, flops, output_shapes, …}]`." },
    },
    "POST /api/v1/models/architectures": {
      summary: "Create an architecture",
      description: "`{name, nodes, edges}` as the document draws graphs (dangling links and a missing input node are repaired, with warnings), or `{name, yaml}` with an Ultralytics model YAML.",
      body: createArchitectureBody,
      responses: { 201: "The architecture, with `warnings`." },
    },
    "PUT /api/v1/models/architectures/{id}": {
      summary: "Save an architecture",
      description: "Name, description and graph; a body with only a name keeps the graph.",
      params: id("architecture"),
      body: updateArchitectureBody,
      responses: { 204: done },
    },
    "DELETE /api/v1/models/architectures/{id}": {
      summary: "Delete an architecture",
      description: "Refused (422) while an experiment uses it.",
      params: id("architecture"),
      responses: { 204: done },
    },
    "GET /api/v1/models/weights": {
      summary: "List weights",
      description: "The weights library: file size, format, task, metrics and the architecture or run each entry came from.",
      query: weightsQuery,
      responses: { 200: "`[{id, name, format, size, metrics, …}]`." },
    },
    "POST /api/v1/models/weights": {
      summary: "Import weights",
      description: "A multipart upload (`.pt`/`.pth`, `.onnx`, studio `.ckpt`, zipped TF.js), or JSON `{path}` naming a file under STUDIO_IMPORT_ROOTS. The file is inspected; pickles are read without running them.",
      body: importWeightsBody,
      form: uploadForms.weights,
      responses: { 201: "The entry." },
    },
    "GET /api/v1/models/weights/{id}": {
      summary: "A weights entry",
      description: "The entry with its lineage, metrics and exports.",
      params: id("weights entry"),
      responses: { 200: "The entry." },
    },
    "PUT /api/v1/models/weights/{id}": {
      summary: "Edit a weights entry's tags or remark",
      description: "What is given changes; the remark is also read as `desc` or `remark`.",
      params: id("weights entry"),
      body: updateWeightsBody,
      responses: { 204: done },
    },
    "DELETE /api/v1/models/weights/{id}": {
      summary: "Delete weights",
      description: "Deletes the entry and its file on disk (kept while another entry holds the same content); refused (422) while in use.",
      params: id("weights entry"),
      responses: { 204: done },
    },
    "GET /api/v1/models/weights/{id}/download": {
      summary: "Download weights",
      description: "The file as an attachment; ranges are served for resuming.",
      params: id("weights entry"),
      responses: { 200: binary("The file."), 206: binary("The requested range.") },
    },
    "POST /api/v1/models/weights/{id}/export": {
      summary: "Export weights",
      description: "Queues an export (ONNX or TF.js) as a child entry; its parity with the source is measured when it is done.",
      params: id("weights entry"),
      body: exportBody,
      responses: { 201: "`{id, status}` of the child entry." },
    },
    "POST /api/v1/models/weights/{id}/validate": {
      summary: "Validate weights",
      description: "Queues a validation on a dataset split; the weights page and GET /metrics show its results.",
      params: id("weights entry"),
      body: validateBody,
      responses: { 201: "`{id, status}` of the validation." },
    },
    "GET /api/v1/experiments": {
      summary: "List experiments",
      description: "The team's experiments, newest first.",
      queryParams: { status: "Only experiments in this status (created, queued, running, pausing, paused, stopping, stopped, completed, failed)." },
      responses: { 200: "`[{id, name, status, progress, …}]`." },
    },
    "POST /api/v1/experiments": {
      summary: "Start training",
      description:
        "Creates the experiment and queues it for a training worker. `model_arch_id` is an architecture id or a zoo model name; `weights_id` (or `hyperparams.weights`) fine-tunes from a library entry; `hyperparams` takes the engine's names and `batch_size`, `lr`, `img_size`.",
      body: createExperimentBody,
      responses: { 201: "The experiment." },
    },
    "GET /api/v1/experiments/{id}": {
      summary: "An experiment",
      description: "Status, progress, epochs, latest and best metrics.",
      params: id("experiment"),
      responses: { 200: "The experiment." },
    },
    "PUT /api/v1/experiments/{id}": {
      summary: "Rename an experiment",
      description: "Only the name changes.",
      params: id("experiment"),
      body: renameBody,
      responses: { 204: done },
    },
    "DELETE /api/v1/experiments/{id}": {
      summary: "Delete an experiment",
      description: "Deletes its rows, logs and run folder; refused (422) while it runs.",
      params: id("experiment"),
      responses: { 204: done },
    },
    "POST /api/v1/experiments/{id}/control": {
      summary: "Stop, pause or resume",
      description: "Signals the run: stop and pause take effect after the current step; resume re-queues it from its last checkpoint and may change epochs, lr0 and patience.",
      params: id("experiment"),
      body: controlBody,
      responses: { 200: "The experiment." },
    },
    "GET /api/v1/experiments/{id}/metrics": {
      summary: "Chart data",
      description: "The loss and metric history: one point per step and per epoch.",
      params: id("experiment"),
      responses: { 200: "The metric history." },
    },
    "POST /api/v1/experiments/{id}/save": {
      summary: "Save to the weights library",
      description: "Copies the run's best (or last) checkpoint into the library, with its lineage and metrics.",
      params: id("experiment"),
      body: saveBody,
      queryParams: { which: "`best` (default) or `last`, for clients that send no body." },
      responses: { 201: "The new weights entry." },
    },
    "GET /api/v1/experiments/{id}/predictions": {
      summary: "Per-image results",
      description:
        "The latest validation's images of a split with what was predicted and how it was judged at a confidence (TP/FP/FN per box, right or wrong per class), a page at a time; `class` and `outcome` filter. Our extension for scripts: `w12` in place of the id names weights entry 12.",
      params: { id: "An experiment's id, or `w<id>` for a weights entry." },
      query: predictionsQuery,
      responses: { 200: "`{id, name, validation_id, task, split, classes, conf, class, outcome, page, page_size, total, items}`." },
    },
    "GET /api/v1/experiments/{id}/diff/{b}": {
      summary: "Two models compared image by image",
      description:
        "On the same split: the images the second model gets wrong that the first got right (regressions), the reverse (fixes) and both wrong, per class, and the metric change with a seeded paired-bootstrap 95% interval. Our extension for scripts; `w<id>` names weights entries.",
      params: { id: "The first model: an experiment's id, or `w<id>`.", b: "The second model, named the same way." },
      query: diffQuery,
      responses: { 200: "`{a, b, task, split, conf, images, unpaired, regressions, fixes, both_wrong, counts, per_class, metric: {name, a, b, delta, ci95, seed, resamples}}`." },
    },
    "GET /api/v1/inference/devices": {
      summary: "Inference devices",
      description: "Cameras (/dev/video*), configured stream sources and compute devices, each with the id stream/start takes; whether ffmpeg is present.",
      responses: { 200: "`{cameras, sources, compute, ffmpeg}`." },
    },
    "POST /api/v1/inference/predict": {
      summary: "Predict on images",
      description: "One batch of images through a weights entry (ONNX Runtime): boxes, classes and confidences per image.",
      form: { ...predictFields, ...uploadForms.predictThresholds },
      responses: { 200: "The predict result: per image, detections or top-k classes, with timings." },
    },
    "POST /api/v1/inference/stream/start": {
      summary: "Start stream inference",
      description: "ffmpeg decodes the camera or source and the newest frame is predicted until stop; results go to /ws/inference/stream.",
      body: streamStartBody.extend(predictParams.shape),
      responses: { 201: "`{status: \"running\", device_id, model_id, pid}`." },
    },
    "POST /api/v1/inference/stream/stop": {
      summary: "Stop stream inference",
      description: "Stops the team's stream and frees its camera; stopping nothing is fine.",
      responses: { 200: "`{status: \"stopped\", was_running}`." },
    },
  },
};
