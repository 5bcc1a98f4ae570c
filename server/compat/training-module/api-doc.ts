import { z } from "zod";
import type { RouteTable } from "@/server/http/route-docs";
import { createTaskBody, saveConfigBody, taskRefBody } from "./mapper";
import { optimalBody, suggestionsBody } from "./system-mapper";
import { exportBody, validateBody } from "./weights-mapper";

const project = { project_name: "The project's name (each team has a `default` project)." };
const projectTask = { ...project, task_id: "The task's id (an experiment id), a positive integer." };

/** Seed 000's routes (`/training/…`), as ../shared/seeds/000_… lists them. */
export const trainingModuleApi: RouteTable = {
  name: "seed 000 · training module",
  description:
    "The old training module's API: `{success, …}` bodies, integer `task_id`, tasks addressed by `project_name`. A task is a studio experiment, visible in every other dialect and in the studio. Clients log in with a session cookie, an API key or a JWT as Bearer.",
  errorEnvelope: z.object({ success: z.literal(false), error: z.string() }),
  routes: {
    "GET /training/{project_name}": {
      summary: "Training dashboard (HTML)",
      description: "The project's tasks, saved configurations and training hosts as an HTML page. A visitor without a session is redirected to the login page and back.",
      params: project,
      responses: { 200: { description: "The dashboard page.", contentType: "text/html" }, 302: { description: "No session: to /login?callbackUrl=…", contentType: null } },
    },
    "POST /training/create_task": {
      summary: "Create a training task",
      description:
        "Creates the task (an experiment, status created) without starting it. `model_type` is a zoo model, `architecture:<id>`, or a weights entry (`weights:<id>`, `weights:<name>` or an entry's name) to fine-tune from. Ratios, when given, must add up to 1; the task then gets its own split and the dataset keeps its own. `dataset_id` picks the dataset when the project has several.",
      body: createTaskBody,
      responses: { 200: "`{success: true, task_id}`." },
    },
    "POST /training/start_task": {
      summary: "Start a training task",
      description: "Queues the task for a training worker; a paused, stopped or finished task resumes from its last checkpoint.",
      body: taskRefBody,
      responses: { 200: "`{success: true, message: \"训练任务已启动\"}`." },
    },
    "POST /training/stop_task": {
      summary: "Stop a training task",
      description: "Asks the running task to stop after its current step; weights/last keeps the last finished epoch.",
      body: taskRefBody,
      responses: { 200: "`{success: true, message: \"训练任务已停止\"}`." },
    },
    "POST /training/delete_task": {
      summary: "Delete a training task",
      description: "Deletes the task, its metrics, logs and run folder. A running task is refused (409): stop it first.",
      body: taskRefBody,
      responses: { 200: "`{success: true, message: \"训练任务已删除\"}`." },
    },
    "GET /training/task_status/{project_name}/{task_id}": {
      summary: "A task's status and progress",
      description: "The task with its status, progress, times, error, latest metrics, best weights file (`model_path`, relative to the storage root) and one log entry per finished epoch.",
      params: projectTask,
      responses: { 200: "`{success: true, task}`." },
    },
    "GET /training/tasks/{project_name}": {
      summary: "The project's tasks",
      description: "Every task of the project, newest first.",
      params: project,
      responses: { 200: "`{success: true, tasks: [...]}`." },
    },
    "POST /training/save_config": {
      summary: "Save a training configuration",
      description:
        "Saves a named configuration for later tasks. `augmentation` may use Ultralytics' keys (`fliplr`, `hsv_h` …) or a list of ops; keys of `other_params` the engine knows become hyper-parameters, the rest is kept as given.",
      body: saveConfigBody,
      responses: { 200: "`{success: true, config_id}`." },
    },
    "GET /training/configs/{project_name}": {
      summary: "The project's saved configurations",
      description: "Every configuration saved in the project.",
      params: project,
      responses: { 200: "`{success: true, configs: [...]}`." },
    },
    "POST /training/export_model/{project_name}/{task_id}": {
      summary: "Export a task's model",
      description: "Saves the task's best checkpoint to the weights library and exports it (ONNX or TF.js), waiting for the export to finish; `export_path` is relative to the storage root.",
      params: projectTask,
      body: exportBody,
      responses: { 200: "`{success: true, data: {export_path, format, file_size_mb, description}}`; a failed export is `{success: false, error}` with HTTP 500." },
    },
    "POST /training/validate_model/{project_name}/{task_id}": {
      summary: "Validate a task's model",
      description: "Runs the task's best checkpoint over a split of its dataset (val unless said) and waits for the metrics: mAP50, mAP50-95, precision, recall and per-class figures.",
      params: projectTask,
      body: validateBody,
      responses: { 200: "`{success: true, data: {metrics, …}}`; a failed validation is `{success: false, error}` with HTTP 500." },
    },
    "GET /training/system_resources/{project_name}": {
      summary: "Live system resources",
      description:
        "CPU, memory and each GPU of the training hosts, from their newest samples, with the tasks running and the slots there are. Without a host sampled lately the figures are null and `reason` says why.",
      params: project,
      responses: { 200: "`{success: true, data: {cpu_percent, memory_percent, memory_available_gb, gpu_info, active_tasks, max_concurrent_tasks, reason?}}`." },
    },
    "POST /training/performance_suggestions/{project_name}": {
      summary: "Performance suggestions",
      description: "Suggestions for a planned training (model and settings) from the hosts' current load and memory, with the figures they were made from.",
      params: project,
      body: suggestionsBody,
      responses: { 200: "`{success: true, data: {suggestions, resource_usage}}`." },
    },
    "POST /training/optimal_config/{project_name}": {
      summary: "The best configuration for this hardware",
      description: "The ten settings the document lists (epochs, batch, lr0, device, amp, cache, workers, save_period, patience, optimizer) for the model on these hosts; the batch size may wait for AutoBatch to measure the model on a worker.",
      params: project,
      body: optimalBody,
      responses: { 200: "`{success: true, data: {epochs, batch, lr0, device, amp, cache, workers, save_period, patience, optimizer}}`." },
    },
    "GET /training/available_models": {
      summary: "Models and devices",
      description: "The zoo's models for each task and the devices this studio's training hosts report.",
      responses: { 200: "`{success: true, models: [{name, description}], devices: [{name, description}]}`." },
    },
    "GET /training/export_formats": {
      summary: "Export formats",
      description: "The formats the document lists, each with `available`: whether this studio writes it.",
      responses: { 200: "`{success: true, formats: {...}}`." },
    },
  },
};
