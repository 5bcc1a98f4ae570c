import { describe, expect, it } from "vitest";
import { API_TABLES, openApiDocument, pathParams, splitRouteKey } from "./openapi";
import { ROUTE_CASES, type Method } from "./route-cases";
import type { RouteDoc, RouteKey } from "./route-docs";
import { loadRoute, routeFilesOnDisk, type RouteWorld } from "./testing";

/** `app/train/[job_id]/route.ts` → `/train/{job_id}`; route groups `(studio)` are no part of the URL. */
function urlPathOf(file: string): string {
  const segments = file.replace(/^app\//, "").replace(/\/?route\.ts$/, "").split("/").filter((s) => s !== "" && !/^\(.*\)$/.test(s));
  return `/${segments.map((s) => s.replace(/^\[(?:\.\.\.)?(.+)\]$/, "{$1}")).join("/")}`;
}

async function servedRoutes(): Promise<{ key: RouteKey; file: string; method: Method }[]> {
  const out: { key: RouteKey; file: string; method: Method }[] = [];
  for (const file of await routeFilesOnDisk()) {
    const mod = await loadRoute(file);
    for (const method of ["GET", "POST", "PUT", "PATCH", "DELETE"] as const) if (typeof mod[method] === "function") out.push({ key: `${method} ${urlPathOf(file)}` as RouteKey, file, method });
  }
  return out;
}

const described = new Map<string, RouteDoc>(API_TABLES.flatMap((table) => Object.entries(table.routes) as [RouteKey, RouteDoc][]));

describe("the REST faces' route tables", () => {
  it("describe every route an app/ route file serves, and no route that is gone", async () => {
    const served = (await servedRoutes()).map((r) => r.key).sort();
    const missing = served.filter((key) => !described.has(key));
    // Adding a route: its row goes into its face's table (server/compat/<dialect>/api-doc.ts or server/http/studio-api-doc.ts).
    expect(missing, "routes without a row in a route table").toEqual([]);
    expect([...described.keys()].filter((key) => !served.includes(key as RouteKey)).sort(), "rows for routes no file serves").toEqual([]);
  });

  it.each([...described.entries()])("%s says what it does, names each path parameter and answers something", (key, doc) => {
    expect(doc.summary.trim().length).toBeGreaterThan(3);
    expect(doc.description.trim().length).toBeGreaterThan(10);
    for (const name of pathParams(splitRouteKey(key as RouteKey).path)) expect(doc.params?.[name]?.trim(), `path parameter ${name}`).toBeTruthy();
    expect(Object.keys(doc.responses).length).toBeGreaterThan(0);
  });

  it("document as JSON bodies what the handlers accept: each route's request in the security table parses", () => {
    const world = {
      ids: { apiKey: 1, project: 2, dataset: 3, item: 4, experiment: 5, augmentation: 6, architecture: 7, config: 8, weights: 9 },
      projectName: "vision",
      importRoot: "/srv/import",
    } as unknown as RouteWorld;
    const checked: string[] = [];
    for (const [file, methods] of Object.entries(ROUTE_CASES)) {
      for (const [method, c] of Object.entries(methods)) {
        const doc = described.get(`${method} ${urlPathOf(file)}`);
        if (!doc?.body || !c?.json) continue;
        const parsed = doc.body.safeParse(c.json(world));
        expect(parsed.error?.issues ?? [], `${method} ${file}`).toEqual([]);
        checked.push(`${method} ${file}`);
      }
    }
    expect(checked.length).toBeGreaterThan(15);
  });
});

describe("the OpenAPI document", () => {
  const doc = openApiDocument();

  it("is OpenAPI 3.1 with an operation, a unique id and an error envelope per described route", () => {
    expect(doc.openapi).toBe("3.1.0");
    const operations = Object.values(doc.paths).flatMap((item) => Object.values(item));
    expect(operations).toHaveLength(described.size);
    expect(new Set(operations.map((op) => op.operationId)).size).toBe(operations.length);
    for (const op of operations) expect(op.responses.default).toMatchObject({ content: { "application/json": { schema: expect.any(Object) } } });
  });

  it("carries the handlers' zod schemas: fields, types, limits and defaults", () => {
    const createTask = doc.paths["/training/create_task"].post.requestBody as { content: { "application/json": { schema: { properties: Record<string, { type?: string }>; required: string[] } } } };
    const schema = createTask.content["application/json"].schema;
    expect(schema.required).toEqual(expect.arrayContaining(["project_name", "task_name", "model_type"]));
    expect(schema.properties.epochs).toMatchObject({ type: "integer", exclusiveMinimum: 0 });
    const preview = doc.paths["/api/v1/datasets/{id}/preview"].get.parameters as { name: string; in: string; schema: { default?: unknown } }[];
    expect(preview.find((p) => p.name === "limit")).toMatchObject({ in: "query", schema: { default: 24 } });
    expect(preview.find((p) => p.name === "id")).toMatchObject({ in: "path" });
  });

  it("asks for a login everywhere but the routes that say why they are open", () => {
    expect(doc.security).toEqual([{ bearer: [] }, { session: [] }]);
    const open = Object.entries(doc.paths).flatMap(([path, item]) => Object.entries(item).filter(([, op]) => op.security !== undefined).map(([method]) => `${method.toUpperCase()} ${path}`));
    const openInSecurityTable = Object.entries(ROUTE_CASES).flatMap(([file, methods]) => Object.entries(methods).filter(([, c]) => c?.open).map(([method]) => `${method} ${urlPathOf(file)}`));
    expect(open.sort()).toEqual(openInSecurityTable.sort());
    expect(open).toContain("POST /api/v1/auth/login");
  });

  it("leaves no reference it cannot resolve", () => {
    expect(JSON.stringify(doc)).not.toContain('"$ref"');
  });
});
