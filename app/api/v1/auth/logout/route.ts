import { getDb } from "@/db/client";
import { apiLogout } from "@/server/auth/api-login";
import { studioV1Error } from "@/server/compat/studio-v1";
import { DomainError } from "@/server/errors";

export const dynamic = "force-dynamic";

export async function POST(req: Request) {
  try {
    await apiLogout(getDb().db, req.headers.get("authorization"));
    return new Response(null, { status: 204 });
  } catch (err) {
    if (err instanceof DomainError) return studioV1Error(err);
    console.error(`[${req.method} ${new URL(req.url).pathname}]`, err);
    return studioV1Error(new DomainError("Internal server error"));
  }
}
