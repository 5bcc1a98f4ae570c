import crypto from "node:crypto";
import { and, asc, eq, sql } from "drizzle-orm";
import { z } from "zod";
import type { Db, DbOrTx } from "@/db/client";
import { memberships, projects, teams, users } from "@/db/schema";
import { type Ctx, roles } from "@/server/context";
import { Conflict, Forbidden, isUniqueViolation, NotFound, parseInput } from "@/server/errors";
import { nameText, recordId } from "@/server/http/input";
import { accessChanged } from "./caller-cache";
import { hashPassword } from "./password";

export const createUserInput = z.object({
  email: z.string().trim().toLowerCase().email(),
  name: z.string().trim().max(100).refine((v) => !/[\u0000-\u001f\u007f]/.test(v), "no control characters").default(""),
  password: z.string().min(8, "at least 8 characters").max(200),
  teamId: recordId.optional(),
  role: z.enum(roles).default("member"),
  isAdmin: z.boolean().default(false),
});
export const setMembershipInput = z.object({
  userId: recordId,
  teamId: recordId,
  role: z.enum(roles),
});
export const removeMembershipInput = z.object({ userId: recordId, teamId: recordId });
export const setDisabledInput = z.object({ userId: recordId, disabled: z.boolean() });
export const createTeamInput = z.object({ name: nameText(100) });

/** Studio administration (users and teams) is for studio admins, not team roles. */
function requireStudioAdmin(ctx: Ctx) {
  if (!ctx.caller.isAdmin) throw new Forbidden("Only studio administrators can manage users and teams");
}

/** A new team always gets its `default` project, which dialects without projects use. */
export async function insertTeam(db: DbOrTx, name: string) {
  const [team] = await db.insert(teams).values({ name }).returning();
  await db.insert(projects).values({ teamId: team.id, name: "default", description: "Default project" });
  return team;
}

export async function createTeam(ctx: Ctx, rawInput: z.input<typeof createTeamInput>) {
  requireStudioAdmin(ctx);
  const input = parseInput(createTeamInput, rawInput);
  try {
    return await ctx.db.transaction(async (tx) => {
      const team = await insertTeam(tx, input.name);
      await tx.insert(memberships).values({ userId: ctx.caller.userId, teamId: team.id, role: "owner" });
      return team;
    });
  } catch (err) {
    if (isUniqueViolation(err)) throw new Conflict(`A team named "${input.name}" already exists`, { name: ["already taken"] });
    throw err;
  }
}

export async function createUser(ctx: Ctx, rawInput: z.input<typeof createUserInput>) {
  requireStudioAdmin(ctx);
  const input = parseInput(createUserInput, rawInput);
  const passwordHash = await hashPassword(input.password);
  try {
    return await ctx.db.transaction(async (tx) => {
      const [user] = await tx
        .insert(users)
        .values({ email: input.email, name: input.name, passwordHash, isAdmin: input.isAdmin })
        .returning({ id: users.id, email: users.email, name: users.name });
      await tx.insert(memberships).values({ userId: user.id, teamId: input.teamId ?? ctx.caller.teamId, role: input.role });
      return user;
    });
  } catch (err) {
    if (isUniqueViolation(err)) throw new Conflict(`A user with email ${input.email} already exists`, { email: ["already taken"] });
    throw err;
  }
}

export async function listUsers(ctx: Ctx) {
  requireStudioAdmin(ctx);
  const rows = await ctx.db
    .select({
      id: users.id,
      email: users.email,
      name: users.name,
      isAdmin: users.isAdmin,
      disabled: users.disabled,
      teamId: memberships.teamId,
      teamName: teams.name,
      role: memberships.role,
    })
    .from(users)
    .leftJoin(memberships, eq(memberships.userId, users.id))
    .leftJoin(teams, eq(teams.id, memberships.teamId))
    .orderBy(asc(users.id), asc(teams.id));
  const byUser = new Map<number, { id: number; email: string; name: string; isAdmin: boolean; disabled: boolean; teams: { teamId: number; teamName: string; role: string }[] }>();
  for (const r of rows) {
    const u = byUser.get(r.id) ?? { id: r.id, email: r.email, name: r.name, isAdmin: r.isAdmin, disabled: r.disabled, teams: [] };
    if (r.teamId !== null && r.teamName !== null && r.role !== null) u.teams.push({ teamId: r.teamId, teamName: r.teamName, role: r.role });
    byUser.set(r.id, u);
  }
  return [...byUser.values()];
}

export async function listAllTeams(ctx: Ctx) {
  requireStudioAdmin(ctx);
  return ctx.db.select().from(teams).orderBy(asc(teams.id));
}

export async function setMembership(ctx: Ctx, rawInput: z.input<typeof setMembershipInput>) {
  requireStudioAdmin(ctx);
  const input = parseInput(setMembershipInput, rawInput);
  const [user] = await ctx.db.select({ id: users.id }).from(users).where(eq(users.id, input.userId));
  const [team] = await ctx.db.select({ id: teams.id }).from(teams).where(eq(teams.id, input.teamId));
  if (!user) throw new NotFound(`User ${input.userId} not found`);
  if (!team) throw new NotFound(`Team ${input.teamId} not found`);
  await ctx.db
    .insert(memberships)
    .values(input)
    .onConflictDoUpdate({ target: [memberships.userId, memberships.teamId], set: { role: input.role } });
  await accessChanged(ctx.db);
}

export async function removeMembership(ctx: Ctx, rawInput: z.input<typeof removeMembershipInput>) {
  requireStudioAdmin(ctx);
  const input = parseInput(removeMembershipInput, rawInput);
  const rows = await ctx.db
    .delete(memberships)
    .where(and(eq(memberships.userId, input.userId), eq(memberships.teamId, input.teamId)))
    .returning();
  if (rows.length === 0) throw new NotFound("That membership does not exist");
  await accessChanged(ctx.db);
}

export async function setUserDisabled(ctx: Ctx, rawInput: z.input<typeof setDisabledInput>) {
  requireStudioAdmin(ctx);
  const input = parseInput(setDisabledInput, rawInput);
  if (input.userId === ctx.caller.userId && input.disabled) throw new Conflict("You cannot disable your own account");
  const rows = await ctx.db.update(users).set({ disabled: input.disabled }).where(eq(users.id, input.userId)).returning({ id: users.id });
  if (rows.length === 0) throw new NotFound(`User ${input.userId} not found`);
  await accessChanged(ctx.db);
}

/** The teams the caller belongs to, for the header's team switcher. */
export async function myTeams(ctx: Ctx) {
  return ctx.db
    .select({ id: teams.id, name: teams.name, role: memberships.role })
    .from(memberships)
    .innerJoin(teams, eq(teams.id, memberships.teamId))
    .where(eq(memberships.userId, ctx.caller.userId))
    .orderBy(asc(teams.id));
}

/**
 * Creates the first administrator (and the first team) when the studio has no users yet.
 * Returns the generated password when none was configured, so the start command can print it once.
 */
export async function ensureFirstAdmin(db: Db, email: string, password: string | undefined) {
  const [{ count }] = await db.select({ count: sql<number>`count(*)::int` }).from(users);
  if (count > 0) return null;
  const chosen = password ?? crypto.randomBytes(12).toString("base64url");
  const passwordHash = await hashPassword(chosen);
  await db.transaction(async (tx) => {
    const [user] = await tx.insert(users).values({ email: email.toLowerCase(), name: "Administrator", passwordHash, isAdmin: true }).returning();
    const team = await insertTeam(tx, "Main");
    await tx.insert(memberships).values({ userId: user.id, teamId: team.id, role: "owner" });
  });
  return { email, password: chosen, generated: password === undefined };
}
