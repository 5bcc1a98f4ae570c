import crypto from "node:crypto";
import { and, desc, eq, isNull } from "drizzle-orm";
import { z } from "zod";
import type { DbOrTx } from "@/db/client";
import { apiKeys } from "@/db/schema";
import type { Ctx } from "@/server/context";
import { NotFound, parseInput } from "@/server/errors";
import { nameText, recordId } from "@/server/http/input";
import { accessChanged } from "./caller-cache";

export const createApiKeyInput = z.object({ name: nameText(100) });
export const revokeApiKeyInput = z.object({ id: recordId });

const KEY_PREFIX = "stk_";

function sha256(value: string): string {
  return crypto.createHash("sha256").update(value).digest("hex");
}

export function looksLikeApiKey(credential: string): boolean {
  return credential.startsWith(KEY_PREFIX);
}

/** Creates a key for the caller in their current team. The whole key is returned only here, once. */
export async function createApiKey(ctx: Ctx, rawInput: z.input<typeof createApiKeyInput>) {
  const input = parseInput(createApiKeyInput, rawInput);
  const visible = crypto.randomBytes(6).toString("base64url");
  const secretPart = crypto.randomBytes(32).toString("base64url");
  const prefix = `${KEY_PREFIX}${visible}`;
  const key = `${prefix}_${secretPart}`;
  const [row] = await ctx.db
    .insert(apiKeys)
    .values({ userId: ctx.caller.userId, teamId: ctx.caller.teamId, name: input.name, prefix, hash: sha256(key) })
    .returning({ id: apiKeys.id, name: apiKeys.name, prefix: apiKeys.prefix, createdAt: apiKeys.createdAt });
  return { ...row, key };
}

export async function listApiKeys(ctx: Ctx) {
  return ctx.db
    .select({
      id: apiKeys.id,
      name: apiKeys.name,
      prefix: apiKeys.prefix,
      teamId: apiKeys.teamId,
      lastUsedAt: apiKeys.lastUsedAt,
      revokedAt: apiKeys.revokedAt,
      createdAt: apiKeys.createdAt,
    })
    .from(apiKeys)
    .where(eq(apiKeys.userId, ctx.caller.userId))
    .orderBy(desc(apiKeys.createdAt));
}

export async function revokeApiKey(ctx: Ctx, rawInput: z.input<typeof revokeApiKeyInput>) {
  const input = parseInput(revokeApiKeyInput, rawInput);
  const rows = await ctx.db
    .update(apiKeys)
    .set({ revokedAt: new Date() })
    .where(and(eq(apiKeys.id, input.id), eq(apiKeys.userId, ctx.caller.userId), isNull(apiKeys.revokedAt)))
    .returning({ id: apiKeys.id });
  if (rows.length === 0) throw new NotFound(`API key ${input.id} not found`);
  await accessChanged(ctx.db);
}

/** Resolves a presented key to its owner and team; null when unknown or revoked. Records last use. */
export async function verifyApiKey(db: DbOrTx, key: string): Promise<{ userId: number; teamId: number } | null> {
  const match = /^(stk_[\w-]{8})_[\w-]+$/.exec(key);
  if (!match) return null;
  const [row] = await db.select().from(apiKeys).where(eq(apiKeys.prefix, match[1]));
  if (!row || row.revokedAt) return null;
  const expected = Buffer.from(row.hash, "hex");
  const actual = Buffer.from(sha256(key), "hex");
  if (!crypto.timingSafeEqual(expected, actual)) return null;
  // Last-use time is informational: update at most once a minute to keep hot paths cheap.
  if (!row.lastUsedAt || Date.now() - row.lastUsedAt.getTime() > 60_000) {
    await db.update(apiKeys).set({ lastUsedAt: new Date() }).where(eq(apiKeys.id, row.id));
  }
  return { userId: row.userId, teamId: row.teamId };
}
