import { initTRPC, TRPCError } from "@trpc/server";
import superjson from "superjson";
import { ZodError } from "zod";
import { getDb, isDatabaseUnavailable, type Db } from "@/db/client";
import { authenticate } from "@/server/auth/callers";
import { checkMutationRequest } from "@/server/auth/request";
import { type Caller, type Ctx, type Role, roleAtLeast } from "@/server/context";
import { Conflict, DomainError, Forbidden, Invalid, NotFound, RateLimited, TooLarge, Unauthorized, Unavailable, zodFieldErrors } from "@/server/errors";
import { containsNul } from "@/server/http/input";

export interface TrpcContext {
  db: Db;
  caller: Caller | null;
  /** Set when a POST failed the same-origin / content-type check; mutations refuse to run then. */
  mutationRefusal: string | null;
}

/** `bodyRefusal`: why the route could not take the request's body (too large); tRPC answers it in its envelope. */
export async function createTrpcContext(req: Request, db: Db = getDb().db, opts: { bodyRefusal?: DomainError } = {}): Promise<TrpcContext> {
  if (opts.bodyRefusal) throw toTrpcError(opts.bodyRefusal);
  const caller = await authenticate(db, { authorization: req.headers.get("authorization"), cookie: req.headers.get("cookie") }).catch((error: unknown) => {
    throw toTrpcError(error);
  });
  const mutationRefusal = req.method === "POST" ? checkMutationRequest(req.headers, { viaCookie: caller?.via === "session" }) : null;
  return { db, caller, mutationRefusal };
}

const INTERNAL_MESSAGE = "Internal server error";

const t = initTRPC.context<TrpcContext>().create({
  transformer: superjson,
  /**
   * What a client sees of an error. An unexpected one (a database error quoting its SQL and
   * parameters, a bug) is logged here and answered with a generic message and no stack.
   */
  errorFormatter({ shape, error, path }) {
    const cause = error.cause;
    if (error.code === "INTERNAL_SERVER_ERROR" && !(cause instanceof DomainError)) {
      console.error(`[trpc ${path ?? "?"}]`, cause ?? error);
      const { stack: _stack, ...data } = shape.data;
      return { ...shape, message: INTERNAL_MESSAGE, data: { ...data, fieldErrors: null } };
    }
    const fieldErrors =
      cause instanceof ZodError ? zodFieldErrors(cause.issues) : cause instanceof DomainError ? (cause.fields ?? null) : null;
    return { ...shape, data: { ...shape.data, fieldErrors } };
  },
});

function toTrpcError(err: unknown): unknown {
  if (!(err instanceof DomainError)) return isDatabaseUnavailable(err) ? toTrpcError(new Unavailable()) : err;
  const code =
    err instanceof NotFound ? "NOT_FOUND"
    : err instanceof Conflict ? "CONFLICT"
    : err instanceof Invalid ? "BAD_REQUEST"
    : err instanceof Forbidden ? "FORBIDDEN"
    : err instanceof Unauthorized ? "UNAUTHORIZED"
    : err instanceof RateLimited ? "TOO_MANY_REQUESTS"
    : err instanceof TooLarge ? "PAYLOAD_TOO_LARGE"
    : err instanceof Unavailable ? "SERVICE_UNAVAILABLE"
    : "INTERNAL_SERVER_ERROR";
  return new TRPCError({ code, message: err.message, cause: err });
}

/** Domain errors thrown by services become tRPC codes here, in one place. */
const mapDomainErrors = t.middleware(async ({ next }) => {
  const result = await next();
  if (!result.ok && (result.error.cause instanceof DomainError || isDatabaseUnavailable(result.error.cause))) {
    throw toTrpcError(result.error.cause);
  }
  return result;
});

/** No text column can hold NUL: input carrying one is refused before any procedure sees it. */
const refuseNul = t.middleware(async ({ getRawInput, next }) => {
  if (containsNul(await getRawInput())) throw new TRPCError({ code: "BAD_REQUEST", message: "Input must not contain NUL characters" });
  return next();
});

export const router = t.router;
export const createCallerFactory = t.createCallerFactory;
export const publicProcedure = t.procedure.use(mapDomainErrors).use(refuseNul);

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
