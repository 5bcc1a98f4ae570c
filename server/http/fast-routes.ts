import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from "node:http";

/**
 * A few hot read-only routes answered by the node server itself, before Next.js: Next's request
 * pipeline costs far more than the handlers behind these routes. Each route calls the same
 * `(Request, params) => Response` function as its Next route file, so auth, envelopes and tests
 * stay one implementation; only the node <-> fetch conversion lives here.
 */

export type RouteParams = Record<string, string>;
export type RouteHandler = (req: Request, params: RouteParams) => Promise<Response>;

export interface FastRoute {
  method: "GET";
  /** Literal segments and `:name` segments, each `:name` matching one non-empty path segment: `/task_status/:task_id`. */
  path: string;
  /**
   * Patterns a decoded parameter must match for this route to answer. What does not match goes to
   * Next, whose router may know a more specific route (`/api/v2/training/start` beside `/api/v2/training/[task_id]`).
   */
  where?: Record<string, RegExp>;
  handler: RouteHandler;
}

interface CompiledRoute {
  method: string;
  /** One entry per segment: a literal to compare, or a parameter with the pattern it must match. */
  segments: { literal?: string; param?: string; pattern?: RegExp }[];
  handler: RouteHandler;
}

function compile(route: FastRoute): CompiledRoute {
  if (!route.path.startsWith("/")) throw new Error(`Fast route path must start with "/": ${route.path}`);
  const segments = route.path
    .slice(1)
    .split("/")
    .map((segment) => (segment.startsWith(":") ? { param: segment.slice(1), pattern: route.where?.[segment.slice(1)] } : { literal: segment }));
  return { method: route.method, segments, handler: route.handler };
}

/** The route and its decoded parameters; null when no route matches (or a segment is not valid percent-encoding). */
function matchRoute(routes: CompiledRoute[], method: string, pathname: string): { route: CompiledRoute; params: RouteParams } | null {
  const parts = pathname.slice(1).split("/");
  for (const route of routes) {
    if (route.method !== method || route.segments.length !== parts.length) continue;
    const params: RouteParams = {};
    let matched = true;
    for (let i = 0; i < parts.length && matched; i++) {
      const { literal, param, pattern } = route.segments[i];
      if (param === undefined) matched = parts[i] === literal;
      else if (parts[i] === "") matched = false;
      else {
        try {
          params[param] = decodeURIComponent(parts[i]);
        } catch {
          return null;
        }
        matched = pattern === undefined || pattern.test(params[param]);
      }
    }
    if (matched) return { route, params };
  }
  return null;
}

/** A WHATWG Request for a body-less node request; `origin` gives the URL its scheme and host, as Next's would. */
function toWebRequest(req: IncomingMessage, origin: string): Request {
  const headers = new Headers();
  for (const name in req.headers) {
    const value = req.headers[name];
    if (value === undefined) continue;
    if (Array.isArray(value)) for (const item of value) headers.append(name, item);
    else headers.set(name, value);
  }
  return new Request(origin + req.url, { method: req.method, headers });
}

/** A handler's answer read to the end: what can be written to any number of node responses. */
interface BufferedResponse {
  status: number;
  headers: OutgoingHttpHeaders;
  body: Buffer;
}

/** Reads a fetch Response whole: status, every header (each Set-Cookie kept apart), body with its length. */
async function bufferResponse(response: Response): Promise<BufferedResponse> {
  const body = Buffer.from(await response.arrayBuffer());
  const headers: OutgoingHttpHeaders = {};
  response.headers.forEach((value, name) => {
    if (name !== "set-cookie") headers[name] = value;
  });
  const cookies = response.headers.getSetCookie();
  if (cookies.length > 0) headers["set-cookie"] = cookies;
  if (response.status !== 204 && response.status !== 304) headers["content-length"] = body.length;
  return { status: response.status, headers, body };
}

/**
 * A node request listener step: answers the request when a route matches and returns true, else
 * returns false and leaves the request untouched for the next listener (Next.js).
 *
 * Identical requests (same URL and credentials) that arrive while one is being answered share
 * that answer: pollers of one task then cost one database read per moment, not one each. Nothing
 * is kept once the answer is written, so every later request reads the database again.
 */
export function createFastRouter(routes: FastRoute[], origin: string): (req: IncomingMessage, res: ServerResponse) => boolean {
  const compiled = routes.map(compile);
  const base = origin.replace(/\/$/, "");
  const inFlight = new Map<string, Promise<BufferedResponse>>();

  async function answer(req: IncomingMessage, res: ServerResponse, handler: RouteHandler, params: RouteParams): Promise<void> {
    // The credentials are part of the key: only the same caller may share an answer.
    const key = `${req.url}\n${req.headers.authorization ?? ""}\n${req.headers.cookie ?? ""}`;
    let pending = inFlight.get(key);
    if (!pending) {
      pending = Promise.resolve()
        .then(() => handler(toWebRequest(req, base), params))
        .then(bufferResponse)
        .finally(() => inFlight.delete(key));
      inFlight.set(key, pending);
    }
    try {
      const { status, headers, body } = await pending;
      res.writeHead(status, headers).end(body);
    } catch (err) {
      // Handlers render their own errors; reaching here is a defect, reported without internals.
      console.error(`[web] ${req.method} ${req.url} failed`, err);
      if (!res.headersSent) res.writeHead(500, { "content-type": "text/plain; charset=utf-8" }).end("Internal server error");
      else res.destroy();
    }
  }

  return (req, res) => {
    const url = req.url ?? "/";
    const queryAt = url.indexOf("?");
    const match = matchRoute(compiled, req.method ?? "GET", queryAt < 0 ? url : url.slice(0, queryAt));
    if (!match) return false;
    void answer(req, res, match.route.handler, match.params);
    return true;
  };
}
