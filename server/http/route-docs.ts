import type { z } from "zod";

/**
 * The REST faces described once: each dialect (and the studio) keeps a table of its routes beside
 * its handlers, with the zod schemas the handlers parse with; server/http/openapi.ts turns the tables
 * into the OpenAPI document at /openapi.json, and openapi.test.ts fails for a route without its row.
 */

export type DocMethod = "GET" | "POST" | "PUT" | "PATCH" | "DELETE";

/** `"POST /training/create_task"`, the path's parameters in OpenAPI's braces: `/train/{job_id}`. */
export type RouteKey = `${DocMethod} /${string}`;

export interface ResponseDoc {
  description: string;
  /** application/json unless said; `null` for a response without a body (204, 302). */
  contentType?: string | null;
  schema?: z.ZodType;
}

export interface RouteDoc {
  /** One line, as a list of endpoints shows it. */
  summary: string;
  /** What the route does in this studio, and where it differs from the old document. */
  description: string;
  /** Each path parameter, by name. */
  params?: Record<string, string>;
  /** The query, as the handler parses it. */
  query?: z.ZodObject;
  /** Query parameters a handler reads one by one (strings), each described. */
  queryParams?: Record<string, string>;
  /** A JSON body, as the handler parses it. */
  body?: z.ZodType;
  /** A multipart/form-data body: each field and what it holds. */
  form?: Record<string, { description: string; binary?: boolean; required?: boolean }>;
  /** Success answers by status; errors come from the table's envelope. */
  responses: Record<number, string | ResponseDoc>;
  /** Answers without a login, and why. */
  open?: string;
}

export interface RouteTable {
  /** The OpenAPI tag: `seed 000 · training module`. */
  name: string;
  description: string;
  /** How this face answers an error (every route's `default` response). */
  errorEnvelope: z.ZodType;
  routes: Partial<Record<RouteKey, RouteDoc>>;
}
