import NextAuth from "next-auth";
import { NextRequest } from "next/server";
import { authOptions, RATE_LIMIT_MARKER } from "@/server/auth/next-auth";
import { DomainError, TooLarge } from "@/server/errors";
import { readBodyText } from "@/server/http/input";

type RouteContext = { params: Promise<{ nextauth: string[] }> };

/** The sign-in form's body, read within STUDIO_JSON_MAX_KB before next-auth parses it. */
async function limitedBody(req: Request): Promise<Request | Response> {
  if (req.method !== "POST") return req;
  try {
    // next-auth reads `nextUrl`: the copy must stay a NextRequest.
    return new NextRequest(req.url, { method: req.method, headers: req.headers, body: await readBodyText(req) });
  } catch (err) {
    if (!(err instanceof DomainError)) throw err;
    return Response.json({ error: err.message }, { status: err instanceof TooLarge ? 413 : 400 });
  }
}

/** `/api/auth/*`: next-auth's sign-in, with the body limit and a 429 for rate-limited sign-ins. */
export async function nextAuthRoute(original: Request, context: RouteContext) {
  const req = await limitedBody(original);
  if (req instanceof Response) return req;
  const handler = NextAuth(authOptions());
  const res: Response = await handler(req, context);
  // next-auth reports every failed sign-in the same way; a rate-limited one must say 429.
  if (req.method === "POST" && req.url.includes("/callback/credentials")) {
    const body = await res.clone().text();
    if (decodeURIComponent(body).includes(RATE_LIMIT_MARKER)) {
      return new Response(body, { status: 429, headers: res.headers });
    }
  }
  return res;
}
