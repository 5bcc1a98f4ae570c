import { z } from "zod";
import type { Db } from "@/db/client";
import { parseInput, Unauthorized } from "@/server/errors";
import { loadCaller } from "./callers";
import { revokeApiJwt, signApiJwt, verifyApiJwt } from "./jwt";
import { checkLogin } from "./login";

export const apiLoginInput = z.object({ email: z.string().trim().email(), password: z.string().min(1) });

/** Old-client login (seed 002): email + password → a signed JWT acting for the user's first team. */
export async function apiLogin(db: Db, body: unknown, ip: string) {
  const input = parseInput(apiLoginInput, body);
  const user = await checkLogin(db, input.email, input.password, ip);
  const caller = await loadCaller(db, user.id, undefined, "jwt");
  if (!caller) throw new Unauthorized("This account belongs to no team yet; ask an administrator");
  const jwt = await signApiJwt(caller.userId, caller.teamId);
  return { token: jwt.token, expiresAt: jwt.expiresAt, caller };
}

/** Revokes the presented JWT so it stops working before its expiry. */
export async function apiLogout(db: Db, authorization: string | null) {
  const token = /^Bearer\s+(\S+)$/i.exec(authorization ?? "")?.[1];
  const jwt = token ? await verifyApiJwt(db, token) : null;
  if (!jwt) throw new Unauthorized("Send the token to revoke as Authorization: Bearer <token>");
  await revokeApiJwt(db, jwt);
}
