import { initTRPC, TRPCError } from "@trpc/server";
import superjson from "superjson";
import { ZodError } from "zod";
import { getDb, type Db } from "@/db/client";
import { authenticate } from "@/server/auth/callers";
import { checkMutationRequest } from "@/server/auth/request";
import { type Caller, type Ctx, type Role, roleAtLeast } from "@/server/context";
import { Conflict, DomainError, Forbidden, Invalid, NotFound, RateLimited, Unauthorized, zodFieldErrors } from "@/server/errors";

export interface TrpcContext {
  db: Db;
  caller: Caller | null;
  /** Set when a POST failed the same-origin / content-type check; mutations refuse to run then. */
  mutationRefusal: string | null;
}

export async function createTrpcContext(req: Request, db: Db = getDb().db): Promise<TrpcContext> {
  const caller = await authenticate(db, { authorization: req.headers.get("authorization"), cookie: req.headers.get("cookie") });
  const mutationRefusal = req.method === "POST" ? checkMutationRequest(req.headers, { viaCookie: caller?.via === "session" }) : null;
  return { db, caller, mutationRefusal };
}

const t = initTRPC.context<TrpcContext>().create({
  transformer: superjson,
  errorFormatter({ shape, error }) {
    const cause = error.cause;
    const fieldErrors =
      cause instanceof ZodError ? zodFieldErrors(cause.issues) : cause instanceof DomainError ? (cause.fields ?? null) : null;
    return { ...shape, data: { ...shape.data, fieldErrors } };
  },
});

function toTrpcError(err: unknown): unknown {
  if (!(err instanceof DomainError)) return err;
  const code =
    err instanceof NotFound ? "NOT_FOUND"
    : err instanceof Conflict ? "CONFLICT"
    : err instanceof Invalid ? "BAD_REQUEST"
    : err instanceof Forbidden ? "FORBIDDEN"
    : err instanceof Unauthorized ? "UNAUTHORIZED"
    : err instanceof RateLimited ? "TOO_MANY_REQUESTS"
    : "INTERNAL_SERVER_ERROR";
  return new TRPCError({ code, message: err.message, cause: err });
}

/** Domain errors thrown by services become tRPC codes here, in one place. */
const mapDomainErrors = t.middleware(async ({ next }) => {
  const result = await next();
  if (!result.ok && result.error.cause instanceof DomainError) {
    throw toTrpcError(result.error.cause);
  }
  return result;
});

export const router = t.router;
export const createCallerFactory = t.createCallerFactory;
export const publicProcedure = t.procedure.use(mapDomainErrors);

/** Any logged-in member of the current team. */
export const authed = publicProcedure.use(({ ctx, type, next }) => {
  if (!ctx.caller) throw new TRPCError({ code: "UNAUTHORIZED", message: "Log in first" });
  if (type === "mutation" && ctx.mutationRefusal) throw new TRPCError({ code: "FORBIDDEN", message: ctx.mutationRefusal });
  const serviceCtx: Ctx = { db: ctx.db, caller: ctx.caller };
  return next({ ctx: { ...ctx, caller: ctx.caller, svc: serviceCtx } });
});

/** Logged in with at least role `min` in the current team. */
export function role(min: Role) {
  return authed.use(({ ctx, next }) => {
    if (!roleAtLeast(ctx.caller.role, min)) {
      throw new TRPCError({ code: "FORBIDDEN", message: `This needs the ${min} role or higher; you are ${ctx.caller.role}` });
    }
    return next();
  });
}
