import type { RouteWorld } from "./testing";

/**
 * Every route file under app/ and every fast route, with a request each that a member of team
 * "Vision" may send: what the security test sends with other credentials and the fuzz test bends.
 */

export type Method = "GET" | "POST" | "PUT" | "PATCH" | "DELETE";

export interface RouteCase {
  path(w: RouteWorld): string;
  params?(w: RouteWorld): Record<string, string | string[]>;
  json?(w: RouteWorld): unknown;
  /** Names another team's resource: the outsider gets 404. */
  owned?: boolean;
  /** Changes something: a viewer gets 403. */
  write?: boolean;
  /** The status of another team's resource when it is not 404: seed 004 answers every unknown task with its documented failure, HTTP 500. */
  missing?: number;
  /** The status without credentials when it is not 401 (a page redirects to the login). */
  anonymous?: number;
  /** Open without credentials, and why; nothing else is checked. */
  open?: string;
}

const E = (w: RouteWorld) => String(w.ids.experiment);
const P = (w: RouteWorld) => w.projectName;
const W = (w: RouteWorld) => String(w.ids.weights);
const taskRef = (w: RouteWorld) => ({ project_name: P(w), task_id: w.ids.experiment });
const trpcInput = (input: unknown) => encodeURIComponent(JSON.stringify({ json: input }));

export const ROUTE_CASES: Record<string, Partial<Record<Method, RouteCase>>> = {
  "app/api/auth/[...nextauth]/route.ts": {
    GET: { path: () => "/api/auth/session", open: "next-auth's own sign-in pages (it needs Next's request context)" },
    POST: { path: () => "/api/auth/callback/credentials", open: "next-auth's sign-in; its body limit is tested in the fuzz test" },
  },
  "app/api/datasets/[id]/images/[itemId]/route.ts": {
    GET: { path: (w) => `/api/datasets/${w.ids.dataset}/images/${w.ids.item}`, params: (w) => ({ id: String(w.ids.dataset), itemId: String(w.ids.item) }), owned: true },
  },
  "app/api/experiments/[id]/plots/[name]/route.ts": {
    GET: { path: (w) => `/api/experiments/${E(w)}/plots/results.png`, params: (w) => ({ id: E(w), name: "results.png" }), owned: true },
  },
  "app/api/health/route.ts": { GET: { path: () => "/api/health", open: "load balancers poll it; details only for a logged-in caller" } },
  "app/openapi.json/route.ts": { GET: { path: () => "/openapi.json" } },
  "app/api/trpc/[trpc]/route.ts": {
    GET: { path: (w) => `/api/trpc/experiments.byId?input=${trpcInput({ id: w.ids.experiment })}`, params: () => ({ trpc: "experiments.byId" }), owned: true },
    POST: { path: () => "/api/trpc/experiments.delete", params: () => ({ trpc: "experiments.delete" }), json: (w) => ({ json: { id: w.ids.experiment } }), owned: true, write: true },
  },
  "app/api/inference/predict/route.ts": { POST: { path: () => "/api/inference/predict", json: (w) => ({ model_id: W(w) }) } },
  "app/api/v1/inference/devices/route.ts": { GET: { path: () => "/api/v1/inference/devices" } },
  "app/api/v1/inference/predict/route.ts": { POST: { path: () => "/api/v1/inference/predict", json: (w) => ({ model_id: W(w) }) } },
  "app/api/v1/inference/stream/start/route.ts": { POST: { path: () => "/api/v1/inference/stream/start", json: (w) => ({ device_id: "0", model_id: W(w) }) } },
  "app/api/v1/inference/stream/stop/route.ts": { POST: { path: () => "/api/v1/inference/stream/stop", json: () => ({}) } },
  "app/infer/route.ts": { POST: { path: () => "/infer", json: (w) => ({ model_id: W(w) }) } },
  "app/infer/base64/route.ts": { POST: { path: () => "/infer/base64", json: (w) => ({ image: "aGVsbG8=", model_id: W(w) }) } },
  "app/api/weights/route.ts": { POST: { path: () => "/api/weights", json: () => ({}), write: true } },
  "app/api/datasets/route.ts": { POST: { path: () => "/api/datasets", json: () => ({}), write: true } },
  "app/api/weights/[id]/download/route.ts": { GET: { path: (w) => `/api/weights/${W(w)}/download`, params: (w) => ({ id: W(w) }), owned: true } },
  "app/api/v1/augmentation/route.ts": {
    GET: { path: () => "/api/v1/augmentation" },
    POST: { path: () => "/api/v1/augmentation", json: () => ({ name: "new-pipeline", pipeline: [] }), write: true },
  },
  "app/api/v1/augmentation/[id]/route.ts": {
    PUT: { path: (w) => `/api/v1/augmentation/${w.ids.augmentation}`, params: (w) => ({ id: String(w.ids.augmentation) }), json: () => ({ desc: "changed" }), owned: true, write: true },
    DELETE: { path: (w) => `/api/v1/augmentation/${w.ids.augmentation}`, params: (w) => ({ id: String(w.ids.augmentation) }), owned: true, write: true },
  },
  "app/api/v1/auth/login/route.ts": { POST: { path: () => "/api/v1/auth/login", open: "logging in is how a client gets credentials" } },
  "app/api/v1/auth/logout/route.ts": { POST: { path: () => "/api/v1/auth/logout" } },
  "app/api/v1/datasets/route.ts": {
    GET: { path: () => "/api/v1/datasets" },
    POST: { path: () => "/api/v1/datasets", json: (w) => ({ name: "new-dataset", path: "/nowhere", project_id: w.ids.project }), owned: true, write: true },
  },
  "app/api/v1/datasets/[id]/route.ts": {
    GET: { path: (w) => `/api/v1/datasets/${w.ids.dataset}`, params: (w) => ({ id: String(w.ids.dataset) }), owned: true },
    PUT: { path: (w) => `/api/v1/datasets/${w.ids.dataset}`, params: (w) => ({ id: String(w.ids.dataset) }), json: () => ({ description: "changed" }), owned: true, write: true },
    DELETE: { path: (w) => `/api/v1/datasets/${w.ids.dataset}`, params: (w) => ({ id: String(w.ids.dataset) }), owned: true, write: true },
  },
  "app/api/v1/datasets/[id]/preview/route.ts": {
    GET: { path: (w) => `/api/v1/datasets/${w.ids.dataset}/preview`, params: (w) => ({ id: String(w.ids.dataset) }), owned: true },
  },
  "app/api/v1/experiments/route.ts": {
    GET: { path: () => "/api/v1/experiments" },
    POST: { path: () => "/api/v1/experiments", json: (w) => ({ name: "new-exp", dataset_id: w.ids.dataset, model_arch_id: "reference-cnn" }), owned: true, write: true },
  },
  "app/api/v1/experiments/[id]/route.ts": {
    GET: { path: (w) => `/api/v1/experiments/${E(w)}`, params: (w) => ({ id: E(w) }), owned: true },
    PUT: { path: (w) => `/api/v1/experiments/${E(w)}`, params: (w) => ({ id: E(w) }), json: () => ({ name: "renamed" }), owned: true, write: true },
    DELETE: { path: (w) => `/api/v1/experiments/${E(w)}`, params: (w) => ({ id: E(w) }), owned: true, write: true },
  },
  "app/api/v1/experiments/[id]/control/route.ts": {
    POST: { path: (w) => `/api/v1/experiments/${E(w)}/control`, params: (w) => ({ id: E(w) }), json: () => ({ action: "pause" }), owned: true, write: true },
  },
  "app/api/v1/experiments/[id]/save/route.ts": {
    POST: { path: (w) => `/api/v1/experiments/${E(w)}/save`, params: (w) => ({ id: E(w) }), json: () => ({ which: "best" }), owned: true, write: true },
  },
  "app/api/v1/experiments/[id]/metrics/route.ts": { GET: { path: (w) => `/api/v1/experiments/${E(w)}/metrics`, params: (w) => ({ id: E(w) }), owned: true } },
  // The world's experiment has no validation: the member gets 422 (validate first), the outsider 404.
  "app/api/v1/experiments/[id]/predictions/route.ts": { GET: { path: (w) => `/api/v1/experiments/${E(w)}/predictions?outcome=fp`, params: (w) => ({ id: E(w) }), owned: true } },
  "app/api/v1/experiments/[id]/diff/[b]/route.ts": {
    GET: { path: (w) => `/api/v1/experiments/${E(w)}/diff/w${W(w)}?split=val&conf=0.5`, params: (w) => ({ id: E(w), b: `w${W(w)}` }), owned: true },
  },
  "app/api/v1/models/architectures/route.ts": {
    GET: { path: () => "/api/v1/models/architectures" },
    POST: { path: () => "/api/v1/models/architectures", json: () => ({ name: "new-net", nodes: [{ id: "in", type: "input" }], edges: [] }), write: true },
  },
  "app/api/v1/models/architectures/[id]/route.ts": {
    PUT: { path: (w) => `/api/v1/models/architectures/${w.ids.architecture}`, params: (w) => ({ id: String(w.ids.architecture) }), json: () => ({ description: "changed" }), owned: true, write: true },
    DELETE: { path: (w) => `/api/v1/models/architectures/${w.ids.architecture}`, params: (w) => ({ id: String(w.ids.architecture) }), owned: true, write: true },
  },
  "app/api/v1/models/weights/route.ts": {
    GET: { path: () => "/api/v1/models/weights" },
    POST: { path: () => "/api/v1/models/weights", json: (w) => ({ path: `${w.importRoot}/model.onnx`, project_id: w.ids.project }), owned: true, write: true },
  },
  "app/api/v1/models/weights/[id]/route.ts": {
    GET: { path: (w) => `/api/v1/models/weights/${W(w)}`, params: (w) => ({ id: W(w) }), owned: true },
    PUT: { path: (w) => `/api/v1/models/weights/${W(w)}`, params: (w) => ({ id: W(w) }), json: () => ({ description: "changed" }), owned: true, write: true },
    DELETE: { path: (w) => `/api/v1/models/weights/${W(w)}`, params: (w) => ({ id: W(w) }), owned: true, write: true },
  },
  "app/api/v1/models/weights/[id]/export/route.ts": {
    POST: { path: (w) => `/api/v1/models/weights/${W(w)}/export`, params: (w) => ({ id: W(w) }), json: () => ({ format: "onnx" }), owned: true, write: true },
  },
  "app/api/v1/models/weights/[id]/validate/route.ts": {
    POST: { path: (w) => `/api/v1/models/weights/${W(w)}/validate`, params: (w) => ({ id: W(w) }), json: () => ({ split: "val" }), owned: true, write: true },
  },
  "app/api/v1/models/weights/[id]/download/route.ts": { GET: { path: (w) => `/api/v1/models/weights/${W(w)}/download`, params: (w) => ({ id: W(w) }), owned: true } },
  "app/api/v1/system/logs/route.ts": { GET: { path: () => "/api/v1/system/logs" } },
  "app/api/v1/system/stats/route.ts": { GET: { path: () => "/api/v1/system/stats" } },
  "app/api/v2/training/start/route.ts": {
    POST: { path: () => "/api/v2/training/start", json: (w) => ({ model: "reference-cnn", train_path: `${w.importRoot}/train` }), write: true },
  },
  "app/api/v2/training/[task_id]/route.ts": { GET: { path: (w) => `/api/v2/training/${E(w)}`, params: (w) => ({ task_id: E(w) }), owned: true } },
  "app/api/v2/training/[task_id]/logs/route.ts": { GET: { path: (w) => `/api/v2/training/${E(w)}/logs`, params: (w) => ({ task_id: E(w) }), owned: true } },
  "app/models/route.ts": { GET: { path: () => "/models" } },
  "app/models/active/route.ts": {
    GET: { path: () => "/models/active" },
    POST: { path: () => "/models/active", json: (w) => ({ model_id: W(w) }), owned: true, write: true },
  },
  "app/metrics/route.ts": { GET: { path: () => "/metrics" } },
  "app/metrics/[model_id]/route.ts": { GET: { path: (w) => `/metrics/${W(w)}`, params: (w) => ({ model_id: W(w) }), owned: true } },
  "app/metrics/[model_id]/evaluate/route.ts": {
    POST: { path: (w) => `/metrics/${W(w)}/evaluate`, params: (w) => ({ model_id: W(w) }), json: () => ({}), owned: true, write: true },
  },
  "app/task_status/[task_id]/route.ts": { GET: { path: (w) => `/task_status/${E(w)}`, params: (w) => ({ task_id: E(w) }), owned: true, missing: 500 } },
  "app/train/route.ts": {
    GET: { path: () => "/train" },
    POST: { path: () => "/train", json: (w) => ({ model_id: "reference-cnn", dataset_id: w.ids.dataset }), owned: true, write: true },
  },
  "app/train/[job_id]/route.ts": {
    GET: { path: (w) => `/train/${E(w)}`, params: (w) => ({ job_id: E(w) }), owned: true },
    DELETE: { path: (w) => `/train/${E(w)}`, params: (w) => ({ job_id: E(w) }), owned: true, write: true },
  },
  "app/training/[project_name]/route.ts": { GET: { path: (w) => `/training/${P(w)}`, params: (w) => ({ project_name: P(w) }), owned: true, anonymous: 302 } },
  "app/training/available_models/route.ts": { GET: { path: () => "/training/available_models" } },
  "app/training/system_resources/[project_name]/route.ts": { GET: { path: (w) => `/training/system_resources/${P(w)}`, params: (w) => ({ project_name: P(w) }), owned: true } },
  "app/training/performance_suggestions/[project_name]/route.ts": {
    POST: { path: (w) => `/training/performance_suggestions/${P(w)}`, params: (w) => ({ project_name: P(w) }), json: () => ({ model_type: "yolov8s", config: { batch_size: 16, epochs: 100, device: "auto" } }), owned: true },
  },
  "app/training/optimal_config/[project_name]/route.ts": {
    POST: { path: (w) => `/training/optimal_config/${P(w)}`, params: (w) => ({ project_name: P(w) }), json: () => ({ model_type: "yolov8s", epochs: 100, device: "auto" }), owned: true },
  },
  "app/training/export_formats/route.ts": { GET: { path: () => "/training/export_formats" } },
  "app/training/export_model/[project_name]/[task_id]/route.ts": {
    POST: { path: (w) => `/training/export_model/${P(w)}/${E(w)}`, params: (w) => ({ project_name: P(w), task_id: E(w) }), json: () => ({ format: "onnx" }), owned: true, write: true },
  },
  "app/training/validate_model/[project_name]/[task_id]/route.ts": {
    POST: { path: (w) => `/training/validate_model/${P(w)}/${E(w)}`, params: (w) => ({ project_name: P(w), task_id: E(w) }), json: () => ({}), owned: true, write: true },
  },
  "app/training/configs/[project_name]/route.ts": { GET: { path: (w) => `/training/configs/${P(w)}`, params: (w) => ({ project_name: P(w) }), owned: true } },
  "app/training/create_task/route.ts": {
    POST: { path: () => "/training/create_task", json: (w) => ({ project_name: P(w), task_name: "new-task", model_type: "reference-cnn", dataset_id: w.ids.dataset }), owned: true, write: true },
  },
  "app/training/delete_task/route.ts": { POST: { path: () => "/training/delete_task", json: taskRef, owned: true, write: true } },
  "app/training/save_config/route.ts": {
    POST: { path: () => "/training/save_config", json: (w) => ({ project_name: P(w), config_name: "new-config", model_type: "reference-cnn", epochs: 2 }), owned: true, write: true },
  },
  "app/training/start_task/route.ts": { POST: { path: () => "/training/start_task", json: taskRef, owned: true, write: true } },
  "app/training/stop_task/route.ts": { POST: { path: () => "/training/stop_task", json: taskRef, owned: true, write: true } },
  "app/training/task_status/[project_name]/[task_id]/route.ts": {
    GET: { path: (w) => `/training/task_status/${P(w)}/${E(w)}`, params: (w) => ({ project_name: P(w), task_id: E(w) }), owned: true },
  },
  "app/training/tasks/[project_name]/route.ts": { GET: { path: (w) => `/training/tasks/${P(w)}`, params: (w) => ({ project_name: P(w) }), owned: true } },
};

/** The fast routes answered before Next, by path pattern: each must be a route file's GET above. */
export const FAST_ROUTE_FILES: Record<string, string> = {
  "/task_status/:task_id": "app/task_status/[task_id]/route.ts",
  "/api/v2/training/:task_id": "app/api/v2/training/[task_id]/route.ts",
  "/api/v1/experiments/:id": "app/api/v1/experiments/[id]/route.ts",
  "/training/task_status/:project_name/:task_id": "app/training/task_status/[project_name]/[task_id]/route.ts",
  "/train/:job_id": "app/train/[job_id]/route.ts",
};
