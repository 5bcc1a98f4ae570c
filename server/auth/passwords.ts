import { and, eq, isNull, sql } from "drizzle-orm";
import { z } from "zod";
import type { DbOrTx } from "@/db/client";
import { apiKeys, users } from "@/db/schema";
import type { Ctx } from "@/server/context";
import { Forbidden, Invalid, NotFound, parseInput } from "@/server/errors";
import { recordId } from "@/server/http/input";
import { accessChanged } from "./caller-cache";
import { hashPassword, verifyPassword } from "./password";

const newPassword = z.string().min(8, "at least 8 characters").max(200, "at most 200 characters");

export const changePasswordInput = z.object({ currentPassword: z.string().min(1, "required").max(200), newPassword });
export const resetPasswordInput = z.object({ userId: recordId, newPassword });

/**
 * A new password ends every credential the old one stood behind: sessions and JWTs issued before
 * now stop working (see `issuedBeforeCredentialsChanged`), and the user's API keys are revoked.
 */
async function replacePassword(db: DbOrTx, userId: number, password: string): Promise<void> {
  const passwordHash = await hashPassword(password);
  await db.transaction(async (tx) => {
    await tx.update(users).set({ passwordHash, credentialsChangedAt: sql`now()` }).where(eq(users.id, userId));
    await tx.update(apiKeys).set({ revokedAt: new Date() }).where(and(eq(apiKeys.userId, userId), isNull(apiKeys.revokedAt)));
  });
  await accessChanged(db);
}

/** Any user, for themselves; the current password is required. */
export async function changePassword(ctx: Ctx, rawInput: z.input<typeof changePasswordInput>): Promise<void> {
  const input = parseInput(changePasswordInput, rawInput);
  const [user] = await ctx.db.select({ passwordHash: users.passwordHash }).from(users).where(eq(users.id, ctx.caller.userId));
  if (!user) throw new NotFound("Your account no longer exists");
  if (!(await verifyPassword(user.passwordHash, input.currentPassword))) {
    throw new Invalid("The current password is wrong", { currentPassword: ["wrong password"] });
  }
  if (input.currentPassword === input.newPassword) throw new Invalid("The new password is the current one", { newPassword: ["same as the current password"] });
  await replacePassword(ctx.db, ctx.caller.userId, input.newPassword);
}

/** Studio administrators set another user's password (a forgotten one); that user's credentials end too. */
export async function resetPassword(ctx: Ctx, rawInput: z.input<typeof resetPasswordInput>): Promise<void> {
  if (!ctx.caller.isAdmin) throw new Forbidden("Only studio administrators can reset passwords");
  const input = parseInput(resetPasswordInput, rawInput);
  const [user] = await ctx.db.select({ id: users.id }).from(users).where(eq(users.id, input.userId));
  if (!user) throw new NotFound(`User ${input.userId} not found`);
  await replacePassword(ctx.db, user.id, input.newPassword);
}

/**
 * Tokens carry their issue time in whole seconds; one issued in the second the password changed
 * still counts (a login right after a change must work).
 */
export function issuedBeforeCredentialsChanged(issuedAtSeconds: number, changedAt: Date | null): boolean {
  if (!changedAt) return false;
  return issuedAtSeconds < Math.floor(changedAt.getTime() / 1000);
}
