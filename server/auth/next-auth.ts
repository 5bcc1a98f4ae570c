import type { NextAuthOptions } from "next-auth";
import CredentialsProvider from "next-auth/providers/credentials";
import { getDb } from "@/db/client";
import { env } from "@/server/env";
import { loadCaller } from "./callers";
import { checkLogin } from "./login";
import { studioSecret } from "./secret";
import { clientIp } from "./request";

export const RATE_LIMIT_MARKER = "Too many failed logins";

export function authOptions(): NextAuthOptions {
  return {
    secret: studioSecret(),
    session: { strategy: "jwt", maxAge: 7 * 24 * 3600 },
    pages: { signIn: "/login" },
    useSecureCookies: env().origin.startsWith("https://"),
    providers: [
      CredentialsProvider({
        name: "Email",
        credentials: { email: { label: "Email", type: "email" }, password: { label: "Password", type: "password" } },
        async authorize(credentials, req) {
          if (!credentials?.email || !credentials.password) return null;
          const headers = new Headers(req?.headers as Record<string, string> | undefined);
          const user = await checkLogin(getDb().db, credentials.email, credentials.password, clientIp(headers));
          return { id: String(user.id), email: user.email, name: user.name };
        },
      }),
    ],
    callbacks: {
      async jwt({ token, user, trigger, session }) {
        const db = getDb().db;
        // A session from before a password change (or of a disabled user) ends here, instead of being renewed.
        if (!user && token.sub && !(await loadCaller(db, Number(token.sub), undefined, "session", typeof token.iat === "number" ? token.iat : 0))) {
          throw new Error("This session has ended; log in again");
        }
        if (user) {
          const caller = await loadCaller(db, Number(user.id), undefined, "session");
          if (caller) token.teamId = caller.teamId;
        }
        // Team switch from the header: accepted only for a team the user belongs to.
        if (trigger === "update" && typeof session?.teamId === "number") {
          const caller = await loadCaller(db, Number(token.sub), session.teamId, "session");
          if (caller) token.teamId = caller.teamId;
        }
        return token;
      },
      async session({ session, token }) {
        return { ...session, userId: Number(token.sub), teamId: token.teamId as number | undefined };
      },
    },
  };
}
