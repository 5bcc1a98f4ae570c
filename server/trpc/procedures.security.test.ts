import { TRPCError } from "@trpc/server";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createRouteWorld, ORIGIN, type RouteWorld } from "@/server/http/testing";
import { PROCEDURES } from "./procedure-cases";
import { createCallerFactory, createTrpcContext } from "./init";
import { appRouter } from "./root";

/**
 * Every tRPC procedure, called with the context the route builds from a request's credentials:
 * none or revoked → UNAUTHORIZED, another team's resource → NOT_FOUND, a viewer's write →
 * FORBIDDEN, studio administration by a non-administrator → FORBIDDEN. A procedure added
 * without a row in procedure-cases.ts fails the test.
 */

let w: RouteWorld;
const createCaller = createCallerFactory(appRouter);

beforeAll(async () => {
  w = await createRouteWorld();
}, 120_000);

afterAll(async () => {
  await w?.close();
});

type Procedure = (input: unknown) => Promise<unknown>;

/** The error code a procedure answers for a caller holding `credential` (none: no header); "OK" when it succeeds. */
async function codeFor(name: string, credential?: string): Promise<string> {
  const headers: Record<string, string> = { "content-type": "application/json", origin: ORIGIN };
  if (credential) headers.authorization = `Bearer ${credential}`;
  const ctx = await createTrpcContext(new Request(`${ORIGIN}/api/trpc/${name}`, { method: "POST", headers }), w.tdb.db);
  const caller = createCaller(ctx) as unknown as Record<string, Record<string, Procedure>>;
  const [group, procedure] = name.split(".");
  try {
    await caller[group][procedure](PROCEDURES[name].input?.(w));
    return "OK";
  } catch (error) {
    if (error instanceof TRPCError) return error.code;
    throw error;
  }
}

describe("the table covers every procedure", () => {
  it("has a row for each procedure of the router, and none for procedures that are gone", () => {
    expect(Object.keys(PROCEDURES).sort()).toEqual(Object.keys(appRouter._def.procedures).sort());
  });
});

describe.each(Object.entries(PROCEDURES))("%s", (name, c) => {
  it("refuses a caller without credentials, with a revoked API key or a revoked JWT", async () => {
    expect(await codeFor(name)).toBe("UNAUTHORIZED");
    expect(await codeFor(name, w.keys.revoked)).toBe("UNAUTHORIZED");
    expect(await codeFor(name, w.jwts.revoked)).toBe("UNAUTHORIZED");
  });

  it.runIf(c.owned)("answers another team's resource as missing", async () => {
    expect(await codeFor(name, w.keys.other)).toBe("NOT_FOUND");
  });

  it.runIf(c.write)("refuses a viewer", async () => {
    expect(await codeFor(name, w.keys.viewer)).toBe("FORBIDDEN");
  });

  it.runIf(c.studioAdmin)("refuses a team member who is no studio administrator", async () => {
    expect(await codeFor(name, w.keys.member)).toBe("FORBIDDEN");
  });
});
