import { Conflict, DomainError, Forbidden, Invalid, NotFound, RateLimited, Unauthorized } from "@/server/errors";
import type { Caller } from "@/server/context";

/**
 * Mapper for the old studio backend (seed 002, `/api/v1`): status codes 200/201/204/400/401/404/422,
 * errors as `{ detail, errors? }` (the FastAPI shape its clients parse), integer ids.
 */
export function studioV1Status(err: DomainError): number {
  if (err instanceof Invalid) return 400;
  if (err instanceof Unauthorized) return 401;
  if (err instanceof Forbidden) return 403;
  if (err instanceof NotFound) return 404;
  if (err instanceof Conflict) return 422;
  if (err instanceof RateLimited) return 429;
  return 500;
}

export function studioV1ErrorBody(err: DomainError): { detail: string; errors?: Record<string, string[]> } {
  return err.fields ? { detail: err.message, errors: err.fields } : { detail: err.message };
}

export function studioV1Error(err: DomainError): Response {
  const headers: Record<string, string> = {};
  if (err instanceof RateLimited) headers["Retry-After"] = String(err.retryAfterSeconds);
  if (err instanceof Unauthorized) headers["WWW-Authenticate"] = "Bearer";
  return Response.json(studioV1ErrorBody(err), { status: studioV1Status(err), headers });
}

export function studioV1User(caller: Caller) {
  return {
    id: caller.userId,
    email: caller.email,
    name: caller.name,
    role: caller.role,
    team: { id: caller.teamId, name: caller.teamName },
  };
}
