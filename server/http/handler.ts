import type PgBoss from "pg-boss";
import { getDb, isDatabaseUnavailable, type Db } from "@/db/client";
import { authenticate } from "@/server/auth/callers";
import { checkMutationRequest } from "@/server/auth/request";
import type { Ctx } from "@/server/context";
import { DomainError, Unauthorized, Forbidden, Invalid, Unavailable } from "@/server/errors";
import { checkUrl, containsNul, readBodyText } from "@/server/http/input";

/**
 * What a handler may be given instead of the process's globals: tests pass their database and
 * pg-boss; Next passes nothing.
 */
export interface HandlerDeps {
  db?: Db;
  boss?: PgBoss;
}

/** The second argument Next gives a route handler (the path's parameters), with the test's deps beside them. */
export interface RouteContext<P extends string> extends HandlerDeps {
  params: Promise<Record<P, string>>;
}

/** The same for a route without path parameters. */
export type RouteDeps = HandlerDeps & { params?: Promise<object> };

/** How one face renders an error: its status codes and its envelope. */
export type ErrorRenderer = (err: DomainError) => Response;

const MUTATING = new Set(["POST", "PUT", "PATCH", "DELETE"]);

/**
 * Runs a REST handler for an old dialect: authenticates the caller itself (never relying on
 * middleware), enforces JSON/same-origin for mutations, and renders domain errors in the
 * dialect's envelope. An unreachable database is a 503; unexpected errors become 500 without internals.
 */
export async function withCaller(
  req: Request,
  renderError: ErrorRenderer,
  handler: (ctx: Ctx) => Promise<Response>,
  opts: { multipart?: boolean; db?: Db } = {},
): Promise<Response> {
  try {
    checkUrl(req.url);
    const ctx = await requestContext(req, opts);
    if (!ctx) throw new Unauthorized("Missing or invalid credentials: send Authorization: Bearer <API key or token>");
    if (MUTATING.has(req.method) && hasBody(req)) {
      const refusal = checkMutationRequest(req.headers, { viaCookie: ctx.caller.via === "session", multipart: opts.multipart });
      if (refusal) throw refusal.startsWith("Content-Type") ? new Invalid(refusal) : new Forbidden(refusal);
    } else if (MUTATING.has(req.method) && ctx.caller.via === "session") {
      const refusal = checkMutationRequest(new Headers({ ...Object.fromEntries(req.headers), "content-type": "application/json" }), { viaCookie: true });
      if (refusal) throw new Forbidden(refusal);
    }
    return await handler(ctx);
  } catch (err) {
    const known = asDomainError(err);
    if (known) return renderError(known);
    console.error(`[${req.method} ${new URL(req.url).pathname}]`, err);
    return renderError(new DomainError("Internal server error"));
  }
}

/** The given database, else the process's. */
export function handlerDb(deps: HandlerDeps): Db {
  return deps.db ?? getDb().db;
}

/** The request's caller with the database, or null without valid credentials (a page sends such a visitor to the login). */
export async function requestContext(req: Request, deps: HandlerDeps = {}): Promise<Ctx | null> {
  const db = handlerDb(deps);
  const caller = await authenticate(db, { authorization: req.headers.get("authorization"), cookie: req.headers.get("cookie") });
  return caller ? { db, caller } : null;
}

/** The domain's error for what a handler threw: a DomainError itself, an unreachable database as Unavailable; null for anything else. */
export function asDomainError(err: unknown): DomainError | null {
  if (err instanceof DomainError) return err;
  return isDatabaseUnavailable(err) ? new Unavailable() : null;
}

function hasBody(req: Request): boolean {
  return req.headers.get("content-length") !== "0" && (req.headers.has("content-type") || req.headers.has("content-length") || req.headers.has("transfer-encoding"));
}

/**
 * Reads a JSON body of at most STUDIO_JSON_MAX_KB, or `maxBytes` (TooLarge past it); malformed JSON,
 * and NUL characters that no text column can hold, are the caller's error, not a 500.
 */
export async function readJson(req: Request, maxBytes?: number): Promise<unknown> {
  const text = await readBodyText(req, maxBytes);
  if (!text.trim()) return {};
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw new Invalid("Request body is not valid JSON");
  }
  if (containsNul(body)) throw new Invalid("Request body must not contain NUL characters");
  return body;
}
