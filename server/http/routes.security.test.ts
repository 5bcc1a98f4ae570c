import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { statusRoutes } from "./status-routes";
import { FAST_ROUTE_FILES, ROUTE_CASES, type Method, type RouteCase } from "./route-cases";
import { callRoute, createRouteWorld, loadRoute, routeFilesOnDisk, routeRequest, type RouteWorld } from "./testing";

/**
 * Every route file under app/ and every fast route, called through its own handler: without
 * credentials → 401, with a revoked API key or JWT → 401, another team's resource → 404, a
 * viewer's write → 403. A route added without a row in route-cases.ts fails the test.
 */

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
