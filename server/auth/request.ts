import { env } from "@/server/env";

/** The client's address: the socket's, or X-Forwarded-For's first hop when a trusted proxy sets it. */
export function clientIp(headers: Headers, socketAddress?: string): string {
  if (env().STUDIO_TRUST_PROXY) {
    const forwarded = headers.get("x-forwarded-for")?.split(",")[0]?.trim();
    if (forwarded) return forwarded;
  }
  return headers.get("x-studio-client-ip") ?? socketAddress ?? "unknown";
}

/**
 * Cookie-authenticated mutations must come from our own pages: a JSON (or multipart) body
 * and an Origin equal to ours. Bearer clients are not exposed to CSRF and skip the Origin check.
 */
export function checkMutationRequest(headers: Headers, opts: { viaCookie: boolean; multipart?: boolean }): string | null {
  const type = (headers.get("content-type") ?? "").split(";")[0].trim().toLowerCase();
  const okType = type === "application/json" || (opts.multipart === true && type === "multipart/form-data");
  if (!okType) return `Content-Type must be application/json${opts.multipart ? " or multipart/form-data" : ""}`;
  if (opts.viaCookie) {
    const origin = headers.get("origin");
    if (!origin || !sameOrigin(origin, headers)) return "Cross-origin request refused: the Origin header must be the studio's own";
  }
  return null;
}

function sameOrigin(origin: string, headers: Headers): boolean {
  if (origin === env().origin) return true;
  // Behind one origin but reached by another host name (127.0.0.1 vs localhost): compare with Host.
  const host = headers.get("x-forwarded-host") ?? headers.get("host");
  try {
    return host !== null && new URL(origin).host === host;
  } catch {
    return false;
  }
}
