import { fetchRequestHandler } from "@trpc/server/adapters/fetch";
import superjson from "superjson";
import type { Db } from "@/db/client";
import { createTrpcContext } from "./init";
import { appRouter } from "./root";

export const TEST_ORIGIN = "http://localhost:3999";

/** Calls a tRPC procedure through the real HTTP adapter, as the browser would. */
export async function callTrpc(
  db: Db,
  procedure: string,
  opts: { input?: unknown; mutation?: boolean; headers?: Record<string, string> } = {},
) {
  const serialized = JSON.stringify(superjson.serialize(opts.input));
  const url = new URL(`${TEST_ORIGIN}/api/trpc/${procedure}`);
  if (!opts.mutation) url.searchParams.set("input", serialized);
  const req = new Request(url, {
    method: opts.mutation ? "POST" : "GET",
    headers: opts.mutation ? { "content-type": "application/json", origin: TEST_ORIGIN, ...opts.headers } : opts.headers,
    body: opts.mutation ? serialized : undefined,
  });
  const res = await fetchRequestHandler({ endpoint: "/api/trpc", req, router: appRouter, createContext: () => createTrpcContext(req, db) });
  const body = (await res.json()) as { result?: { data: unknown }; error?: { json: { message: string; data: { code: string; fieldErrors: Record<string, string[]> | null } } } };
  return {
    status: res.status,
    data: body.result ? superjson.deserialize(body.result.data as never) : undefined,
    error: body.error?.json,
  };
}
