import { and, asc, eq } from "drizzle-orm";
import { decode } from "next-auth/jwt";
import { isDatabaseUnavailable, type DbOrTx } from "@/db/client";
import { memberships, teams, users } from "@/db/schema";
import type { Caller } from "@/server/context";
import { Unavailable } from "@/server/errors";
import { looksLikeApiKey, verifyApiKey } from "./api-keys";
import { cachedCaller } from "./caller-cache";
import { looksLikeJwt, verifyApiJwt } from "./jwt";
import { issuedBeforeCredentialsChanged } from "./passwords";
import { studioSecret } from "./secret";

const SESSION_COOKIES = ["__Secure-next-auth.session-token", "next-auth.session-token"];

/**
 * Loads the caller for a user acting in a team. Null when the user is disabled or not a
 * member (a removed member's old credentials stop working at once), or when the credential
 * was issued (`issuedAt`, seconds; absent for a login happening now) before the user's password last changed.
 */
export async function loadCaller(db: DbOrTx, userId: number, teamId: number | undefined, via: Caller["via"], issuedAt?: number): Promise<Caller | null> {
  const rows = await db
    .select({
      userId: users.id,
      email: users.email,
      name: users.name,
      isAdmin: users.isAdmin,
      disabled: users.disabled,
      credentialsChangedAt: users.credentialsChangedAt,
      teamId: teams.id,
      teamName: teams.name,
      role: memberships.role,
    })
    .from(users)
    .innerJoin(memberships, eq(memberships.userId, users.id))
    .innerJoin(teams, eq(teams.id, memberships.teamId))
    .where(teamId === undefined ? eq(users.id, userId) : and(eq(users.id, userId), eq(teams.id, teamId)))
    .orderBy(asc(teams.id))
    .limit(1);
  const row = rows[0];
  if (!row || row.disabled) return null;
  if (issuedAt !== undefined && issuedBeforeCredentialsChanged(issuedAt, row.credentialsChangedAt)) return null;
  return {
    userId: row.userId,
    email: row.email,
    name: row.name,
    isAdmin: row.isAdmin,
    teamId: row.teamId,
    teamName: row.teamName,
    role: row.role,
    via,
  };
}

function parseCookies(header: string | null | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const part of (header ?? "").split(";")) {
    const eqAt = part.indexOf("=");
    if (eqAt < 0) continue;
    const name = part.slice(0, eqAt).trim();
    if (name) out[name] = decodeURIComponent(part.slice(eqAt + 1).trim());
  }
  return out;
}

/** The session cookie's user and team, as next-auth wrote them; null when absent or invalid. */
async function readSessionCookie(cookieHeader: string | null | undefined): Promise<{ userId: number; teamId?: number; issuedAt: number } | null> {
  const cookies = parseCookies(cookieHeader);
  const token = SESSION_COOKIES.map((n) => cookies[n]).find(Boolean);
  if (!token) return null;
  try {
    const payload = await decode({ token, secret: studioSecret() });
    const userId = Number(payload?.sub);
    if (!payload || !Number.isInteger(userId)) return null;
    const teamId = typeof payload.teamId === "number" ? payload.teamId : undefined;
    // A token without an issue time counts as older than any password change.
    return { userId, teamId, issuedAt: typeof payload.iat === "number" ? payload.iat : 0 };
  } catch {
    return null;
  }
}

export interface CredentialSource {
  authorization?: string | null;
  cookie?: string | null;
}

/**
 * Who is calling: a Bearer API key or JWT (old clients), else the studio's session cookie.
 * Every face calls this itself; middleware is never the only check.
 */
export async function authenticate(db: DbOrTx, source: CredentialSource): Promise<Caller | null> {
  try {
    return await resolveCaller(db, source);
  } catch (error) {
    // Not "invalid credentials": every face answers 503 and the client retries.
    if (isDatabaseUnavailable(error)) throw new Unavailable();
    throw error;
  }
}

async function resolveCaller(db: DbOrTx, source: CredentialSource): Promise<Caller | null> {
  const bearer = /^Bearer\s+(\S+)$/i.exec(source.authorization ?? "")?.[1];
  if (bearer) return cachedCaller(db, `bearer:${bearer}`, () => authenticateBearer(db, bearer));
  const cookies = parseCookies(source.cookie);
  const token = SESSION_COOKIES.map((n) => cookies[n]).find(Boolean);
  if (!token) return null;
  return cachedCaller(db, `session:${token}`, () => authenticateSession(db, source.cookie));
}

async function authenticateBearer(db: DbOrTx, bearer: string): Promise<Caller | null> {
  if (looksLikeApiKey(bearer)) {
    const key = await verifyApiKey(db, bearer);
    return key ? loadCaller(db, key.userId, key.teamId, "api_key") : null;
  }
  if (looksLikeJwt(bearer)) {
    const jwt = await verifyApiJwt(db, bearer);
    return jwt ? loadCaller(db, jwt.userId, jwt.teamId, "jwt", jwt.issuedAt) : null;
  }
  return null;
}

async function authenticateSession(db: DbOrTx, cookie: string | null | undefined): Promise<Caller | null> {
  const session = await readSessionCookie(cookie);
  if (!session) return null;
  return (
    (await loadCaller(db, session.userId, session.teamId, "session", session.issuedAt)) ??
    // The team in the cookie may have been left since; fall back to another membership.
    (session.teamId !== undefined ? loadCaller(db, session.userId, undefined, "session", session.issuedAt) : null)
  );
}
