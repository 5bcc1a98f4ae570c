import { memberships, users } from "@/db/schema";
import type { Db } from "@/db/client";
import { insertTeam } from "@/server/auth/users";
import { hashPassword } from "@/server/auth/password";
import { loadCaller } from "@/server/auth/callers";
import type { Ctx, Role } from "@/server/context";

/** Real rows for tests: a team (with its default project) and users with roles in it. */
export async function seedTeam(db: Db, name: string) {
  return insertTeam(db, name);
}

export async function seedUser(
  db: Db,
  opts: { email: string; password?: string; isAdmin?: boolean; teams: { teamId: number; role: Role }[] },
) {
  const [user] = await db
    .insert(users)
    .values({ email: opts.email, name: opts.email.split("@")[0], passwordHash: await hashPassword(opts.password ?? "password123"), isAdmin: opts.isAdmin ?? false })
    .returning();
  for (const t of opts.teams) await db.insert(memberships).values({ userId: user.id, teamId: t.teamId, role: t.role });
  return user;
}

export async function ctxFor(db: Db, userId: number, teamId: number): Promise<Ctx> {
  const caller = await loadCaller(db, userId, teamId, "session");
  if (!caller) throw new Error(`user ${userId} is not in team ${teamId}`);
  return { db, caller };
}

/** The setup most service tests share: a member of team "Vision" and the owner of another team, who must see nothing of it. */
export async function seedMemberAndOutsider(db: Db) {
  const team = await seedTeam(db, "Vision");
  const other = await seedTeam(db, "Other");
  const m = await seedUser(db, { email: "m@x.io", teams: [{ teamId: team.id, role: "member" }] });
  const o = await seedUser(db, { email: "o@x.io", teams: [{ teamId: other.id, role: "owner" }] });
  return { team, other, member: await ctxFor(db, m.id, team.id), outsider: await ctxFor(db, o.id, other.id) };
}

/** seedMemberAndOutsider with a viewer of the member's team too. */
export async function seedMemberViewerAndOutsider(db: Db) {
  const seeded = await seedMemberAndOutsider(db);
  const v = await seedUser(db, { email: "viewer@x.io", teams: [{ teamId: seeded.team.id, role: "viewer" }] });
  return { ...seeded, viewer: await ctxFor(db, v.id, seeded.team.id) };
}
