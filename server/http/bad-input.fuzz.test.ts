import { readdir } from "node:fs/promises";
import path from "node:path";
import { TRPCError } from "@trpc/server";
import { fetchRequestHandler } from "@trpc/server/adapters/fetch";
import fc from "fast-check";
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createRouteWorld, callRoute, loadRoute, ORIGIN, routeRequest, type RouteWorld } from "./testing";
import { ROUTE_CASES, type Method, type RouteCase } from "./route-cases";
import { createCallerFactory, createTrpcContext, publicProcedure, router } from "@/server/trpc/init";
import { PROCEDURES } from "@/server/trpc/procedure-cases";
import { appRouter } from "@/server/trpc/root";

/**
 * Hostile input at every route file and tRPC procedure, from a member who may call them all:
 * out-of-range and malformed numbers, NUL and control characters, dot names, wrong types. Nothing
 * may answer 5xx, and a refused request leaves no row and no file behind.
 */

const RUNS = 12;
const INT32 = 2 ** 31;

/** Numbers no id or count accepts; never a small positive integer, which could name a real row. */
const hostileNumber = fc.oneof(
  fc.constantFrom(0, -1, INT32, INT32 - 0.5, 2 ** 53, -INT32 - 1, 1e308, -0, 0.5),
  fc.integer({ min: INT32, max: Number.MAX_SAFE_INTEGER }),
  fc.double({ noNaN: true, noDefaultInfinity: true }).filter((v) => !(Number.isInteger(v) && v > 0 && v < INT32)),
);
const hostileString = fc.oneof(
  fc.constantFrom("", ".", "..", "../../etc", "\u0000", "a\u0000b", "0x1", "1e3", " 1", "01", "-1", "2147483648", "99999999999999999999", "\n", "\t\r", "x".repeat(5000), "💥", "cuda:99"),
  fc.string({ unit: "binary", maxLength: 40 }),
);
const hostileValue = fc.oneof(
  hostileNumber,
  hostileString,
  fc.constantFrom(null, true, false, [], {}),
  fc.array(fc.oneof(hostileString, hostileNumber), { maxLength: 3 }),
  fc.dictionary(hostileString, fc.oneof(hostileString, hostileNumber), { maxKeys: 3 }),
);
/** A path segment as Next would decode it from a URL (so no lone surrogates). */
const hostileSegment = hostileString.filter((v) => v !== "" && !v.includes("/") && canEncode(v));
const QUERY_NAMES = ["page", "size", "limit", "q", "search", "status", "since", "split", "class_id", "thumb"];

function canEncode(value: string): boolean {
  try {
    encodeURIComponent(value);
    return true;
  } catch {
    return false;
  }
}

let w: RouteWorld;

beforeAll(async () => {
  w = await createRouteWorld();
}, 120_000);

afterAll(async () => {
  await w?.close();
});

const TABLES = ["projects", "datasets", "dataset_items", "augmentations", "architectures", "training_configs", "experiments", "experiment_logs", "api_keys", "users", "teams", "memberships"];

async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true }).catch(() => []);
  return entries.filter((e) => e.isFile()).map((e) => path.join(e.parentPath, e.name)).sort();
}

/** Row counts and files: what a refused request must leave as it was. */
async function snapshot() {
  const [row] = await w.tdb.db.execute<Record<string, string>>(sql.raw(`select ${TABLES.map((t) => `(select count(*) from ${t}) as ${t}`).join(", ")}`));
  return { rows: row, files: await filesUnder(w.dataDir) };
}

const fuzzable = Object.entries(ROUTE_CASES).flatMap(([file, methods]) =>
  Object.entries(methods)
    .filter(([, c]) => !c!.open || file.endsWith("auth/login/route.ts"))
    .map(([method, c]) => ({ name: `${method} ${file}`, file, method: method as Method, c: c! })),
);

/** Sends one request as the member and checks the answer is no 5xx and a refusal left nothing behind. */
async function probe(file: string, method: Method, c: RouteCase, request: { path: string; params: Record<string, string>; body?: string }): Promise<void> {
  const before = await snapshot();
  const req = routeRequest(method, request.path, { auth: w.keys.member, body: request.body, headers: request.body === undefined ? {} : { "content-type": "application/json" } });
  const res = await callRoute(await loadRoute(file), method, req, request.params);
  const text = res.headers.get("content-type")?.includes("event-stream") ? (await res.body?.cancel(), "") : await res.text();
  const documentedFailure = c.missing === 500 && res.status === 500 && JSON.parse(text).code === 1;
  if (res.status >= 500 && !documentedFailure) throw new Error(`${method} ${request.path} ${JSON.stringify(request.params)} ${request.body?.slice(0, 300) ?? ""} → ${res.status} ${text.slice(0, 300)}`);
  if (res.status >= 400) expect(await snapshot(), `${method} ${request.path} left something behind`).toEqual(before);
}

/** The route's path with `params` in place of its own, encoded as a client would send it. */
function pathWith(c: RouteCase, params: Record<string, string>): string {
  let out = c.path(w);
  for (const [name, value] of Object.entries(c.params?.(w) ?? {})) out = out.replace(`/${value}`, `/${encodeURIComponent(params[name])}`);
  return out;
}

describe.each(fuzzable)("$name", ({ file, method, c }) => {
  // The route's dynamic segments, from its folder names (`[task_id]`).
  const names = [...file.matchAll(/\[(\w+)\]/g)].map((m) => m[1]);
  const params = () => (c.params?.(w) ?? {}) as Record<string, string>;

  it.runIf(names.length > 0)("refuses hostile path parameters", async () => {
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...(names.length ? names : ["_"])), hostileSegment, async (name, value) => {
        const bent = { ...params(), [name]: value };
        await probe(file, method, c, { path: pathWith(c, bent), params: bent, body: c.json ? JSON.stringify(c.json(w)) : undefined });
      }),
      { numRuns: RUNS },
    );
  });

  it.runIf(c.json !== undefined)("refuses hostile body fields and bodies", async () => {
    const body = (c.json?.(w) ?? {}) as Record<string, unknown>;
    const fields = Object.keys(body).length ? Object.keys(body) : ["_"];
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...fields), hostileValue, async (field, value) => {
        await probe(file, method, c, { path: c.path(w), params: params(), body: JSON.stringify({ ...body, [field]: value }) });
      }),
      { numRuns: RUNS },
    );
    await fc.assert(
      fc.asyncProperty(fc.oneof(fc.json(), hostileString), async (raw) => {
        await probe(file, method, c, { path: c.path(w), params: params(), body: raw });
      }),
      { numRuns: RUNS },
    );
  });

  it.runIf(method === "GET")("refuses hostile query strings", async () => {
    await fc.assert(
      fc.asyncProperty(fc.dictionary(fc.constantFrom(...QUERY_NAMES), hostileString.filter(canEncode), { minKeys: 1, maxKeys: 3 }), async (query) => {
        const url = c.path(w);
        await probe(file, method, c, { path: `${url}${url.includes("?") ? "&" : "?"}${new URLSearchParams(query)}`, params: params() });
      }),
      { numRuns: RUNS },
    );
  });
});

describe("tRPC procedures", () => {
  const createCaller = createCallerFactory(appRouter);
  const withInput = Object.entries(PROCEDURES).filter(([, c]) => c.input);

  it.each(withInput)("%s refuses hostile input fields without an internal error", async (name, c) => {
    const ctx = await createTrpcContext(new Request(`${ORIGIN}/api/trpc/${name}`, { method: "POST", headers: { "content-type": "application/json", origin: ORIGIN, authorization: `Bearer ${w.keys.member}` } }), w.tdb.db);
    const [group, procedure] = name.split(".");
    const call = (createCaller(ctx) as unknown as Record<string, Record<string, (input: unknown) => Promise<unknown>>>)[group][procedure];
    const input = c.input!(w) as Record<string, unknown>;
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...Object.keys(input)), hostileValue, async (field, value) => {
        const before = await snapshot();
        const code = await call({ ...input, [field]: value }).then(
          () => "OK",
          (error: unknown) => (error instanceof TRPCError ? error.code : String(error)),
        );
        expect(code, `${name} ${field}=${JSON.stringify(value)?.slice(0, 200)}`).not.toBe("INTERNAL_SERVER_ERROR");
        if (code !== "OK") expect(await snapshot()).toEqual(before);
      }),
      { numRuns: RUNS },
    );
  });
});

describe("bodies over the limit", () => {
  const big = JSON.stringify({ email: "a@b.c", password: "x".repeat(2 * 1024 * 1024) });

  it("are refused with 413 in each face's envelope, login included, before they are parsed", async () => {
    const login = await callRoute(await loadRoute("app/api/v1/auth/login/route.ts"), "POST", routeRequest("POST", "/api/v1/auth/login", { body: big, headers: { "content-type": "application/json" } }), {});
    expect(login.status).toBe(413);
    expect((await login.json()).detail).toMatch(/larger than 1024 KB/);

    const task = await callRoute(await loadRoute("app/training/create_task/route.ts"), "POST", routeRequest("POST", "/training/create_task", { auth: w.keys.member, body: big, headers: { "content-type": "application/json" } }), {});
    expect(task.status).toBe(413);
    expect(await task.json()).toMatchObject({ success: false });

    const trpc = await callRoute(
      await loadRoute("app/api/trpc/[trpc]/route.ts"),
      "POST",
      routeRequest("POST", "/api/trpc/projects.create", { auth: w.keys.member, body: big, headers: { "content-type": "application/json", origin: ORIGIN } }),
      { trpc: "projects.create" },
    );
    expect(trpc.status).toBe(413);
    expect((await trpc.json()).error.json.data.code).toBe("PAYLOAD_TOO_LARGE");
  });

  it("leave a body within the limit to tRPC as it was sent", async () => {
    const body = JSON.stringify({ json: { name: "within-limit", description: "y".repeat(2000) } });
    const res = await callRoute(
      await loadRoute("app/api/trpc/[trpc]/route.ts"),
      "POST",
      routeRequest("POST", "/api/trpc/projects.create", { auth: w.keys.member, body, headers: { "content-type": "application/json", origin: ORIGIN, "content-length": String(Buffer.byteLength(body)) } }),
      { trpc: "projects.create" },
    );
    expect(res.status).toBe(200);
    expect((await res.json()).result.data.json).toMatchObject({ name: "within-limit", description: "y".repeat(2000) });
  });
});

/** The routes that take a multipart upload, and a field each needs besides the file. */
const UPLOAD_ROUTES = [
  { file: "app/api/v1/datasets/route.ts", path: "/api/v1/datasets", field: "name" },
  { file: "app/api/v1/models/weights/route.ts", path: "/api/v1/models/weights", field: "name" },
  { file: "app/api/weights/route.ts", path: "/api/weights", field: "name" },
  { file: "app/api/datasets/route.ts", path: "/api/datasets", field: "name" },
];

describe.each(UPLOAD_ROUTES)("multipart uploads to $path cut short", ({ file, path: urlPath, field }) => {
  it("are a 400 and leave no staged file", async () => {
    const boundary = "----studio-fuzz";
    const whole = Buffer.concat([
      Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${field}"\r\n\r\ncut\r\n--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="cut.zip"\r\nContent-Type: application/zip\r\n\r\n`),
      Buffer.alloc(64 * 1024, 7),
      Buffer.from(`\r\n--${boundary}--\r\n`),
    ]);
    const route = await loadRoute(file);
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 1, max: whole.length - 10 }), async (cut) => {
        const before = await snapshot();
        const req = routeRequest("POST", urlPath, { auth: w.keys.member, body: whole.subarray(0, cut), headers: { "content-type": `multipart/form-data; boundary=${boundary}` } });
        const res = await callRoute(route, "POST", req, {});
        expect(res.status).toBe(400);
        expect(await snapshot()).toEqual(before);
      }),
      { numRuns: RUNS },
    );
    expect(await filesUnder(path.join(w.dataDir, "tmp"))).toEqual([]);
  });
});

describe("tRPC errors", () => {
  const failing = router({ leak: publicProcedure.query(() => Promise.reject(new Error('Failed query: select "password_hash" from "users" where "id" = $1 params: 7'))) });

  it("answer an unexpected error with a generic message: no SQL, parameters or stack", async () => {
    const res = await fetchRequestHandler({ endpoint: "/api/trpc", req: new Request(`${ORIGIN}/api/trpc/leak`), router: failing, createContext: () => createTrpcContext(new Request(ORIGIN), w.tdb.db) });
    const text = await res.text();
    expect(res.status).toBe(500);
    expect(text).toContain("Internal server error");
    expect(text).not.toMatch(/select|password_hash|params|stack|\.ts:/i);
  });

  it("keep a refused input's own message", async () => {
    const ctx = await createTrpcContext(new Request(ORIGIN, { headers: { authorization: `Bearer ${w.keys.member}` } }), w.tdb.db);
    const create = createCallerFactory(appRouter)(ctx).experiments.create;
    const gpu = (device: string) => create({ projectId: w.ids.project, name: "gpu", datasetId: w.ids.dataset, model: "reference-cnn", device });
    await expect(gpu("cuda:7")).rejects.toMatchObject({ code: "BAD_REQUEST", message: expect.stringMatching(/"cuda:7" is on no training worker; available: auto, cpu/) });
    await expect(gpu("cuda:99")).rejects.toMatchObject({ code: "BAD_REQUEST", message: expect.stringMatching(/unknown device "cuda:99"/) });
    await expect(createCallerFactory(appRouter)(ctx).projects.create({ name: ".." })).rejects.toMatchObject({ code: "BAD_REQUEST" });
  });
});
