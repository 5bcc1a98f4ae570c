import NextAuth from "next-auth";
import { authOptions, RATE_LIMIT_MARKER } from "@/server/auth/next-auth";

export const dynamic = "force-dynamic";

type RouteContext = { params: Promise<{ nextauth: string[] }> };

async function handle(req: Request, context: RouteContext) {
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

export { handle as GET, handle as POST };
