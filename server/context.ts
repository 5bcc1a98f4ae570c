import type { Db } from "@/db/client";
import { Forbidden } from "./errors";

export const roles = ["viewer", "member", "admin", "owner"] as const;
export type Role = (typeof roles)[number];

export interface Caller {
  userId: number;
  email: string;
  name: string;
  isAdmin: boolean;
  teamId: number;
  teamName: string;
  role: Role;
  /** How the caller proved who they are; "system" is the studio itself (systemContext). */
  via: "session" | "api_key" | "jwt" | "system";
}

/** What every service function receives: the database and who is asking, for which team. */
export interface Ctx {
  db: Db;
  caller: Caller;
}

/**
 * The studio acting for a team on its own account, with no login behind it: a worker's run reading
 * its dataset. `onBehalfOf` is the member the work is for (who started the run), so anything it
 * writes is attributed to them (with that member gone, user 0: reads work, attributed writes fail on
 * the users foreign key); `purpose` names the actor in logs and errors.
 */
export function systemContext(db: Db, teamId: number, actor: { purpose: string; onBehalfOf: number | null }): Ctx {
  return { db, caller: { userId: actor.onBehalfOf ?? 0, email: "", name: `studio ${actor.purpose}`, isAdmin: false, teamId, teamName: "", role: "member", via: "system" } };
}

export function roleAtLeast(role: Role, min: Role): boolean {
  return roles.indexOf(role) >= roles.indexOf(min);
}

/** Viewers read but cannot change; each mutation states the least role it needs. */
export function requireRole(ctx: Ctx, min: Role): void {
  if (!roleAtLeast(ctx.caller.role, min)) throw new Forbidden(`This needs the ${min} role or higher; you are ${ctx.caller.role}`);
}
