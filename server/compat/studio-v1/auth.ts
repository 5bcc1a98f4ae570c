import { apiLogin, apiLogout } from "@/server/auth/api-login";
import { clientIp } from "@/server/auth/request";
import { handlerDb, readJson, type RouteDeps } from "@/server/http/handler";
import { DomainError, Invalid } from "@/server/errors";
import { studioV1User } from "./mapper";
import { restError } from "@/server/http/rest-error";

/** Errors in seed 002's envelope; anything unexpected is a 500 without internals. */
async function answer(req: Request, handler: () => Promise<Response>): Promise<Response> {
  try {
    return await handler();
  } catch (err) {
    if (err instanceof DomainError) return restError(err);
    console.error(`[${req.method} ${new URL(req.url).pathname}]`, err);
    return restError(new DomainError("Internal server error"));
  }
}

/** Seed 002 `POST /api/v1/auth/login {email, password}` → `{token, user}`: the one route open without credentials. */
export function loginV1(req: Request, route: RouteDeps = {}): Promise<Response> {
  return answer(req, async () => {
    if (!(req.headers.get("content-type") ?? "").toLowerCase().startsWith("application/json")) throw new Invalid("Content-Type must be application/json");
    const { token, expiresAt, caller } = await apiLogin(handlerDb(route), await readJson(req), clientIp(req.headers));
    return Response.json({ token, token_type: "bearer", expires_at: expiresAt.toISOString(), user: studioV1User(caller) });
  });
}

/** Seed 002 `POST /api/v1/auth/logout`: revokes the presented JWT → 204. */
export function logoutV1(req: Request, route: RouteDeps = {}): Promise<Response> {
  return answer(req, async () => {
    await apiLogout(handlerDb(route), req.headers.get("authorization"));
    return new Response(null, { status: 204 });
  });
}
