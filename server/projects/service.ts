import { and, asc, eq } from "drizzle-orm";
import type { z } from "zod";
import { projects } from "@/db/schema";
import { type Ctx, requireRole } from "@/server/context";
import { Conflict, isUniqueViolation, NotFound, parseInput } from "@/server/errors";
import { sweepOrphanWeightsFiles } from "@/server/weights/storage";
import { createProjectInput, deleteProjectInput, renameProjectInput } from "./schemas";

export async function listProjects(ctx: Ctx) {
  return ctx.db.select().from(projects).where(eq(projects.teamId, ctx.caller.teamId)).orderBy(asc(projects.name));
}

export async function getProject(ctx: Ctx, id: number) {
  const [row] = await ctx.db.select().from(projects).where(and(eq(projects.id, id), eq(projects.teamId, ctx.caller.teamId)));
  if (!row) throw new NotFound(`Project ${id} not found`);
  return row;
}

export async function getProjectByName(ctx: Ctx, name: string) {
  // No project name holds a control character, and PostgreSQL refuses NUL in a query: such a name names nothing.
  if (/[\u0000-\u001f\u007f]/.test(name)) throw new NotFound(`Project "${name}" not found`);
  const [row] = await ctx.db.select().from(projects).where(and(eq(projects.name, name), eq(projects.teamId, ctx.caller.teamId)));
  if (!row) throw new NotFound(`Project "${name}" not found`);
  return row;
}

/** The team's `default` project, used by dialects that have no notion of projects. */
export async function defaultProject(ctx: Ctx) {
  const [row] = await ctx.db
    .insert(projects)
    .values({ teamId: ctx.caller.teamId, name: "default", description: "Default project" })
    .onConflictDoNothing()
    .returning();
  return row ?? getProjectByName(ctx, "default");
}

export async function createProject(ctx: Ctx, rawInput: z.input<typeof createProjectInput>) {
  requireRole(ctx, "member");
  const input = parseInput(createProjectInput, rawInput);
  try {
    const [row] = await ctx.db
      .insert(projects)
      .values({ teamId: ctx.caller.teamId, name: input.name, description: input.description })
      .returning();
    return row;
  } catch (err) {
    if (isUniqueViolation(err)) throw new Conflict(`A project named "${input.name}" already exists`, { name: ["already taken"] });
    throw err;
  }
}

export async function renameProject(ctx: Ctx, rawInput: z.input<typeof renameProjectInput>) {
  requireRole(ctx, "member");
  const input = parseInput(renameProjectInput, rawInput);
  const current = await getProject(ctx, input.id);
  if (current.name === "default") throw new Conflict("The default project cannot be renamed", { name: ["default project"] });
  try {
    const [row] = await ctx.db
      .update(projects)
      .set({ name: input.name, updatedAt: new Date() })
      .where(and(eq(projects.id, input.id), eq(projects.teamId, ctx.caller.teamId)))
      .returning();
    return row;
  } catch (err) {
    if (isUniqueViolation(err)) throw new Conflict(`A project named "${input.name}" already exists`, { name: ["already taken"] });
    throw err;
  }
}

export async function deleteProject(ctx: Ctx, rawInput: z.input<typeof deleteProjectInput>) {
  requireRole(ctx, "admin");
  const input = parseInput(deleteProjectInput, rawInput);
  const current = await getProject(ctx, input.id);
  if (current.name === "default") throw new Conflict("The default project cannot be deleted");
  await ctx.db.delete(projects).where(and(eq(projects.id, input.id), eq(projects.teamId, ctx.caller.teamId)));
  // The cascade removed the project's weights entries; their files go now.
  await sweepOrphanWeightsFiles(ctx.db);
}
