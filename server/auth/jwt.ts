import crypto from "node:crypto";
import { eq, lt } from "drizzle-orm";
import { jwtVerify, SignJWT, type JWTPayload } from "jose";
import type { DbOrTx } from "@/db/client";
import { revokedTokens } from "@/db/schema";
import { env } from "@/server/env";
import { accessChanged } from "./caller-cache";
import { studioSecret } from "./secret";

// One algorithm, pinned on both sides, so a token cannot choose a weaker one (or "none").
const ALG = "HS256";
const ISSUER = "training-studio";
const AUDIENCE = "studio-api";

function key(): Uint8Array {
  return new TextEncoder().encode(`jwt:${studioSecret()}`);
}

export interface ApiJwt {
  token: string;
  expiresAt: Date;
}

export async function signApiJwt(userId: number, teamId: number): Promise<ApiJwt> {
  const expiresAt = new Date(Date.now() + env().STUDIO_JWT_TTL_HOURS * 3600_000);
  const token = await new SignJWT({ team: teamId })
    .setProtectedHeader({ alg: ALG, typ: "JWT" })
    .setSubject(String(userId))
    .setIssuer(ISSUER)
    .setAudience(AUDIENCE)
    .setIssuedAt()
    .setExpirationTime(Math.floor(expiresAt.getTime() / 1000))
    .setJti(crypto.randomUUID())
    .sign(key());
  return { token, expiresAt };
}

export interface VerifiedJwt {
  userId: number;
  teamId: number;
  jti: string;
  expiresAt: Date;
  issuedAt: number;
}

/** Verifies signature, algorithm, issuer, audience, expiry and revocation; null when any fails. */
export async function verifyApiJwt(db: DbOrTx, token: string): Promise<VerifiedJwt | null> {
  let payload: JWTPayload;
  try {
    ({ payload } = await jwtVerify(token, key(), { algorithms: [ALG], issuer: ISSUER, audience: AUDIENCE }));
  } catch {
    return null;
  }
  const userId = Number(payload.sub);
  const teamId = Number(payload.team);
  if (!Number.isInteger(userId) || !Number.isInteger(teamId) || !payload.jti || !payload.exp) return null;
  // A database error propagates: an unreachable database is not an invalid token.
  const revoked = await db.select({ jti: revokedTokens.jti }).from(revokedTokens).where(eq(revokedTokens.jti, payload.jti));
  if (revoked.length > 0) return null;
  return { userId, teamId, jti: payload.jti, expiresAt: new Date(payload.exp * 1000), issuedAt: payload.iat ?? 0 };
}

export async function revokeApiJwt(db: DbOrTx, jwt: VerifiedJwt): Promise<void> {
  await db.insert(revokedTokens).values({ jti: jwt.jti, expiresAt: jwt.expiresAt }).onConflictDoNothing();
  await accessChanged(db);
  // Revocations are only needed until the token would have expired anyway.
  await db.delete(revokedTokens).where(lt(revokedTokens.expiresAt, new Date()));
}

export function looksLikeJwt(credential: string): boolean {
  return /^[\w-]+\.[\w-]+\.[\w-]+$/.test(credential);
}
