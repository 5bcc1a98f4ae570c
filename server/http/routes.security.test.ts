import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { statusRoutes } from "./status-routes";
import { callRoute, createRouteWorld, loadRoute, routeFilesOnDisk, routeRequest, type RouteWorld } from "./testing";

/**
 * Every route file under app/ and every fast route, called through its own handler: without
 * credentials → 401, with a revoked API key or JWT → 401, another team's resource → 404, a
 * viewer's write → 403. A route added without a row here fails the test.
 */

type Method = "GET" | "POST" | "PUT" | "PATCH" | "DELETE";

interface RouteCase {
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
  "app/api/trpc/[trpc]/route.ts": {
    GET: { path: (w) => `/api/trpc/experiments.byId?input=${trpcInput({ id: w.ids.experiment })}`, params: () => ({ trpc: "experiments.byId" }), owned: true },
    POST: { path: () => "/api/trpc/experiments.delete", params: () => ({ trpc: "experiments.delete" }), json: (w) => ({ json: { id: w.ids.experiment } }), owned: true, write: true },
  },
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
  "app/api/v1/experiments/[id]/metrics/route.ts": { GET: { path: (w) => `/api/v1/experiments/${E(w)}/metrics`, params: (w) => ({ id: E(w) }), owned: true } },
  "app/api/v1/models/architectures/route.ts": {
    GET: { path: () => "/api/v1/models/architectures" },
    POST: { path: () => "/api/v1/models/architectures", json: () => ({ name: "new-net", nodes: [{ id: "in", type: "input" }], edges: [] }), write: true },
  },
  "app/api/v1/models/architectures/[id]/route.ts": {
    PUT: { path: (w) => `/api/v1/models/architectures/${w.ids.architecture}`, params: (w) => ({ id: String(w.ids.architecture) }), json: () => ({ description: "changed" }), owned: true, write: true },
    DELETE: { path: (w) => `/api/v1/models/architectures/${w.ids.architecture}`, params: (w) => ({ id: String(w.ids.architecture) }), owned: true, write: true },
  },
  "app/api/v1/system/logs/route.ts": { GET: { path: () => "/api/v1/system/logs" } },
  "app/api/v1/system/stats/route.ts": { GET: { path: () => "/api/v1/system/stats" } },
  "app/api/v2/training/start/route.ts": {
    POST: { path: () => "/api/v2/training/start", json: (w) => ({ model: "reference-cnn", train_path: `${w.importRoot}/train` }), write: true },
  },
  "app/api/v2/training/[task_id]/route.ts": { GET: { path: (w) => `/api/v2/training/${E(w)}`, params: (w) => ({ task_id: E(w) }), owned: true } },
  "app/api/v2/training/[task_id]/logs/route.ts": { GET: { path: (w) => `/api/v2/training/${E(w)}/logs`, params: (w) => ({ task_id: E(w) }), owned: true } },
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
const FAST_ROUTE_FILES: Record<string, string> = {
  "/task_status/:task_id": "app/task_status/[task_id]/route.ts",
  "/api/v2/training/:task_id": "app/api/v2/training/[task_id]/route.ts",
  "/api/v1/experiments/:id": "app/api/v1/experiments/[id]/route.ts",
  "/training/task_status/:project_name/:task_id": "app/training/task_status/[project_name]/[task_id]/route.ts",
  "/train/:job_id": "app/train/[job_id]/route.ts",
};

let w: RouteWorld;

beforeAll(async () => {
  w = await createRouteWorld();
}, 120_000);

afterAll(async () => {
  await w?.close();
});

/** Every (route file, method) the app serves, from the files themselves. */
async function servedRoutes(): Promise<[string, Method][]> {
  const out: [string, Method][] = [];
  for (const file of await routeFilesOnDisk()) {
    const mod = await loadRoute(file);
    for (const method of ["GET", "POST", "PUT", "PATCH", "DELETE"] as const) if (typeof mod[method] === "function") out.push([file, method]);
  }
  return out;
}

describe("the table covers every route", () => {
  it("has a row for each route file and method on disk, and none for routes that are gone", async () => {
    const served = (await servedRoutes()).map(([file, method]) => `${method} ${file}`).sort();
    const table = Object.entries(ROUTE_CASES)
      .flatMap(([file, methods]) => Object.keys(methods).map((method) => `${method} ${file}`))
      .sort();
    expect(table).toEqual(served);
  });

  it("has a row for each fast route", () => {
    const fast = statusRoutes().map((r) => r.path).sort();
    expect(Object.keys(FAST_ROUTE_FILES).sort()).toEqual(fast);
  });
});

async function statusOf(file: string, method: Method, c: RouteCase, auth?: string): Promise<number> {
  const req = routeRequest(method, c.path(w), { auth, json: c.json?.(w) });
  const res = await callRoute(await loadRoute(file), method, req, c.params?.(w) ?? {});
  await res.body?.cancel();
  return res.status;
}

const cases = Object.entries(ROUTE_CASES).flatMap(([file, methods]) => Object.entries(methods).map(([method, c]) => ({ name: `${method} ${file}`, file, method: method as Method, c: c! })));

describe.each(cases.filter(({ c }) => !c.open))("$name", ({ file, method, c }) => {
  it("refuses a caller without credentials", async () => {
    expect(await statusOf(file, method, c)).toBe(c.anonymous ?? 401);
  });

  it("refuses a revoked API key and a revoked JWT", async () => {
    expect(await statusOf(file, method, c, w.keys.revoked)).toBe(c.anonymous ?? 401);
    expect(await statusOf(file, method, c, w.jwts.revoked)).toBe(c.anonymous ?? 401);
  });

  it.runIf(c.owned)("answers another team's resource as missing", async () => {
    expect(await statusOf(file, method, c, w.keys.other)).toBe(c.missing ?? 404);
  });

  it.runIf(c.write)("refuses a viewer's write", async () => {
    expect(await statusOf(file, method, c, w.keys.viewer)).toBe(403);
  });
});

describe.each(Object.entries(FAST_ROUTE_FILES))("fast route %s", (pattern, file) => {
  const route = () => statusRoutes({ db: w.tdb.db }).find((r) => r.path === pattern)!;
  const call = async (auth?: string) => {
    const c = ROUTE_CASES[file].GET!;
    const res = await route().handler(routeRequest("GET", c.path(w), { auth }), (c.params?.(w) ?? {}) as Record<string, string>);
    await res.body?.cancel();
    return res.status;
  };

  it("answers as its route file does: 401 without or with revoked credentials, 404 for another team, 200 for the member", async () => {
    expect(await call()).toBe(401);
    expect(await call(w.keys.revoked)).toBe(401);
    expect(await call(w.jwts.revoked)).toBe(401);
    expect(await call(w.keys.other)).toBe(ROUTE_CASES[file].GET!.missing ?? 404);
    expect(await call(w.keys.member)).toBe(200);
  });
});
