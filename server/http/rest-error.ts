import { z } from "zod";
import { Conflict, DomainError, Forbidden, Invalid, NotFound, RateLimited, TooLarge, Unavailable, Unauthorized } from "@/server/errors";

/**
 * Errors as FastAPI answers them, `{ detail, errors? }` with 400/401/403/404/422/413/429/503: the
 * envelope of the old backends of seeds 001, 002 and 003, and so of the studio's own REST routes too.
 */
function restStatus(err: DomainError): number {
  if (err instanceof Invalid) return 400;
  if (err instanceof Unauthorized) return 401;
  if (err instanceof Forbidden) return 403;
  if (err instanceof NotFound) return 404;
  if (err instanceof Conflict) return 422;
  if (err instanceof TooLarge) return 413;
  if (err instanceof Unavailable) return 503;
  if (err instanceof RateLimited) return 429;
  return 500;
}

/** restErrorBody's shape, for the API document. */
export const restErrorEnvelope = z.object({ detail: z.string(), errors: z.record(z.string(), z.array(z.string())).optional() });

function restErrorBody(err: DomainError): { detail: string; errors?: Record<string, string[]> } {
  return err.fields ? { detail: err.message, errors: err.fields } : { detail: err.message };
}

export function restError(err: DomainError): Response {
  const headers: Record<string, string> = {};
  if (err instanceof RateLimited) headers["Retry-After"] = String(err.retryAfterSeconds);
  if (err instanceof Unauthorized) headers["WWW-Authenticate"] = "Bearer";
  return Response.json(restErrorBody(err), { status: restStatus(err), headers });
}
