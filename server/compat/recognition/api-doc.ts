import { predictParams } from "@/server/inference/schemas";
import type { RouteTable } from "@/server/http/route-docs";
import { restErrorEnvelope } from "@/server/http/rest-error";
import { base64Body } from "./infer-mapper";
import { startBody } from "./mapper";
import { activateBody, evaluateBody } from "./models-mapper";

const model = { model_id: "The weights entry's id, as /models lists it." };
const job = { job_id: "The job's id (an experiment id)." };

/** Seed 003's routes, as ../shared/seeds/003_… lists them; what that document mocked is real here. */
export const recognitionApi: RouteTable = {
  name: "seed 003 · recognition backend",
  description:
    "The recognition backend's API: its models are the team's weights entries (string ids), its training jobs are experiments in the team's default project. Bearer: an API key or a JWT. Errors in FastAPI's `{detail}`.",
  errorEnvelope: restErrorEnvelope,
  routes: {
    "GET /models": {
      summary: "Every model",
      description: "The team's weights entries: task, format, architecture, classes, input size and whether each is the active model.",
      responses: { 200: "`[{id, name, type, description, task, format, architecture, classes, num_classes, input_size, …}]`." },
    },
    "GET /models/active": {
      summary: "The active model",
      description: "The entry the team's clients use when they name none; 404 while none is set.",
      responses: { 200: "The model." },
    },
    "POST /models/active": {
      summary: "Set the active model",
      description: "Makes the entry (by id or name) the team's active model.",
      body: activateBody,
      responses: { 200: "The model, with `message`." },
    },
    "POST /infer": {
      summary: "Recognise an image",
      description: "One uploaded image through the model (ONNX Runtime); without `model_id`, the active model. Detectors answer boxes [x1, y1, x2, y2] in pixels, classifiers the top classes.",
      form: {
        file: { description: "The image (`image` and `images` are read too).", binary: true, required: true },
        model_id: { description: "The weights entry, by id or name; default the active model." },
      },
      responses: { 200: "`{model_id, task, predictions: [{class_id, class_name, confidence, bbox?}], inference_time, image_size, provider}`." },
    },
    "POST /infer/base64": {
      summary: "Recognise a base64 image",
      description: "As POST /infer, the image as base64 or a data URL in JSON, with the predict parameters beside it.",
      body: base64Body.extend(predictParams.shape),
      responses: { 200: "As POST /infer." },
    },
    "GET /metrics": {
      summary: "Every model's metrics",
      description: "By model id: accuracy, precision, recall, F1 or mAP from each entry's latest validation, and its inference time; null where nothing was measured.",
      responses: { 200: "`{<model_id>: {accuracy, precision, recall, f1_score, inference_time, last_updated, …}}`." },
    },
    "GET /metrics/{model_id}": {
      summary: "A model's metrics",
      description: "As GET /metrics, for one model.",
      params: model,
      responses: { 200: "The model's metrics." },
    },
    "POST /metrics/{model_id}/evaluate": {
      summary: "Evaluate a model",
      description: "Queues a validation of the model on the dataset it was trained on (or `dataset_id`); GET /metrics/{model_id} shows the result when it is done.",
      params: model,
      body: evaluateBody,
      responses: { 200: "`{model_id, evaluation_id, status, dataset_id, split, message}`." },
    },
    "GET /train": {
      summary: "Every training job",
      description: "The team's experiments as jobs: status, progress and the latest loss and accuracy.",
      responses: { 200: "`[{job_id, model_id, status, progress, metrics}]`." },
    },
    "POST /train": {
      summary: "Start a training job",
      description: "Creates an experiment in the team's default project and queues it; `dataset_id` picks the dataset when that project has several.",
      body: startBody,
      responses: { 200: "The job, with `message`." },
    },
    "GET /train/{job_id}": {
      summary: "A training job",
      description: "The job's status, progress and latest metrics.",
      params: job,
      responses: { 200: "The job." },
    },
    "DELETE /train/{job_id}": {
      summary: "Stop a training job",
      description: "Asks the run to stop after its current step.",
      params: job,
      responses: { 200: "The job, with `message`." },
    },
  },
};
