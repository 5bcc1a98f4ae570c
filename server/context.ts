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
  /** How the caller proved who they are. */
  via: "session" | "api_key" | "jwt";
}

/** What every service function receives: the database and who is asking, for which team. */
export interface Ctx {
  db: Db;
  caller: Caller;
}

export function roleAtLeast(role: Role, min: Role): boolean {
  return roles.indexOf(role) >= roles.indexOf(min);
}

/** Viewers read but cannot change; each mutation states the least role it needs. */
export function requireRole(ctx: Ctx, min: Role): void {
  if (!roleAtLeast(ctx.caller.role, min)) throw new Forbidden(`This needs the ${min} role or higher; you are ${ctx.caller.role}`);
}
