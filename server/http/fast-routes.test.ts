import http from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { createFastRouter, type FastRoute, type RouteParams } from "./fast-routes";

const seen: { url: string; method: string; params: RouteParams; headers: Headers }[] = [];

let slowCalls = 0;
/** One gate per call of the slow handler, opened by the test. */
const gates: (() => void)[] = [];

const routes: FastRoute[] = [
  {
    method: "GET",
    path: "/slow/:id",
    handler: async (req) => {
      const call = ++slowCalls;
      await new Promise<void>((resolve) => gates.push(resolve));
      return Response.json({ call, who: req.headers.get("authorization") });
    },
  },
  {
    method: "GET",
    path: "/items/:id",
    where: { id: /^\d+$/ },
    handler: async (req, params) => {
      seen.push({ url: req.url, method: req.method, params, headers: req.headers });
      const headers = new Headers({ "content-type": "application/json", "x-item": params.id });
      headers.append("set-cookie", "a=1; Path=/; HttpOnly");
      headers.append("set-cookie", "b=2; Path=/");
      return new Response(JSON.stringify({ id: Number(params.id) }), { status: 201, headers });
    },
  },
  {
    method: "GET",
    path: "/projects/:name/tasks/:id",
    handler: async (req, params) => {
      seen.push({ url: req.url, method: req.method, params, headers: req.headers });
      return Response.json(params);
    },
  },
  { method: "GET", path: "/empty/:id", handler: async () => new Response(null, { status: 204 }) },
  {
    method: "GET",
    path: "/broken/:id",
    handler: async () => {
      throw new Error("secret internals");
    },
  },
];

let server: http.Server;
let port: number;

beforeAll(async () => {
  const answerFast = createFastRouter(routes, "https://studio.example/");
  server = http.createServer((req, res) => {
    if (!answerFast(req, res)) res.writeHead(299, { "content-type": "text/plain" }).end("next");
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  port = (server.address() as AddressInfo).port;
});

afterAll(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

/** A raw node request, so repeated request headers and every response header line are visible. */
function request(path: string, opts: { method?: string; headers?: http.OutgoingHttpHeaders } = {}) {
  return new Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }>((resolve, reject) => {
    const req = http.request({ host: "127.0.0.1", port, path, method: opts.method ?? "GET", headers: opts.headers }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => (body += chunk));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on("error", reject);
    req.end();
  });
}

describe("fast routes on a node http server", () => {
  it("answers a matching GET with the handler's status, headers, each Set-Cookie separately, and a sized body", async () => {
    const res = await request("/items/42");
    expect(res.status).toBe(201);
    expect(JSON.parse(res.body)).toEqual({ id: 42 });
    expect(res.headers["content-type"]).toBe("application/json");
    expect(res.headers["x-item"]).toBe("42");
    expect(res.headers["set-cookie"]).toEqual(["a=1; Path=/; HttpOnly", "b=2; Path=/"]);
    expect(res.headers["content-length"]).toBe(String(Buffer.byteLength(res.body)));
  });

  it("gives the handler decoded params, the URL on the configured origin with its query, and the request's headers", async () => {
    seen.length = 0;
    const res = await request("/projects/my%20project/tasks/7?verbose=1", { headers: { authorization: "Bearer k", "x-multi": ["a", "b"] } });
    expect(JSON.parse(res.body)).toEqual({ name: "my project", id: "7" });
    expect(seen).toHaveLength(1);
    expect(seen[0].url).toBe("https://studio.example/projects/my%20project/tasks/7?verbose=1");
    expect(seen[0].method).toBe("GET");
    expect(seen[0].headers.get("authorization")).toBe("Bearer k");
    expect(seen[0].headers.get("x-multi")).toBe("a, b");
  });

  it("sends no body length on 204", async () => {
    const res = await request("/empty/1");
    expect(res.status).toBe(204);
    expect(res.body).toBe("");
    expect(res.headers["content-length"]).toBeUndefined();
  });

  it("leaves everything else to the next listener: other methods, paths, unmatched patterns, bad encoding", async () => {
    for (const [method, path] of [
      ["POST", "/items/1"],
      ["HEAD", "/items/1"],
      ["GET", "/items/start"],
      ["GET", "/items/1/"],
      ["GET", "/items/"],
      ["GET", "/items/1/more"],
      ["GET", "/projects/%E0%A4%A/tasks/1"],
      ["GET", "/elsewhere"],
    ]) {
      const res = await request(path, { method });
      expect(res.status, `${method} ${path}`).toBe(299);
    }
  });

  it("turns a handler's unexpected throw into a bare 500 that reveals nothing", async () => {
    const res = await request("/broken/1");
    expect(res.status).toBe(500);
    expect(res.body).not.toContain("secret");
  });

  it("lets identical requests in flight share one handler call, never across credentials and never after the answer", async () => {
    slowCalls = 0;
    const asA = () => request("/slow/1", { headers: { authorization: "Bearer a" } });
    const first = [asA(), asA(), asA()];
    await vi.waitFor(() => expect(gates).toHaveLength(1));
    const asB = request("/slow/1", { headers: { authorization: "Bearer b" } });
    await vi.waitFor(() => expect(gates).toHaveLength(2));
    gates.shift()!();
    expect((await Promise.all(first)).map((r) => JSON.parse(r.body))).toEqual([1, 1, 1].map(() => ({ call: 1, who: "Bearer a" })));
    gates.shift()!();
    expect(JSON.parse((await asB).body)).toEqual({ call: 2, who: "Bearer b" });

    const later = asA();
    await vi.waitFor(() => expect(gates).toHaveLength(1));
    gates.shift()!();
    expect(JSON.parse((await later).body)).toEqual({ call: 3, who: "Bearer a" });
    expect(slowCalls).toBe(3);
  });
});
