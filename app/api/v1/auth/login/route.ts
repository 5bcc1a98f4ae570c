import { getDb } from "@/db/client";
import { apiLogin } from "@/server/auth/api-login";
import { clientIp } from "@/server/auth/request";
import { readJson } from "@/server/compat/http";
import { studioV1Error, studioV1User } from "@/server/compat/studio-v1";
import { DomainError, Invalid } from "@/server/errors";

export const dynamic = "force-dynamic";

export async function POST(req: Request) {
  try {
    if (!(req.headers.get("content-type") ?? "").toLowerCase().startsWith("application/json")) {
      throw new Invalid("Content-Type must be application/json");
    }
    const { token, expiresAt, caller } = await apiLogin(getDb().db, await readJson(req), clientIp(req.headers));
    return Response.json({ token, token_type: "bearer", expires_at: expiresAt.toISOString(), user: studioV1User(caller) });
  } catch (err) {
    if (err instanceof DomainError) return studioV1Error(err);
    console.error(`[${req.method} ${new URL(req.url).pathname}]`, err);
    return studioV1Error(new DomainError("Internal server error"));
  }
}
