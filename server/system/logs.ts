import { desc, eq, lt, sql } from "drizzle-orm";
import { z } from "zod";
import type { DbOrTx } from "@/db/client";
import { systemLogs } from "@/db/schema";
import type { Ctx } from "@/server/context";
import { Forbidden, parseInput } from "@/server/errors";

export type SystemLogLevel = (typeof systemLogs.$inferSelect)["level"];
export type SystemLogRow = typeof systemLogs.$inferSelect;

/** The processes whose output is kept, and the names seed 002 uses for them (`?type=backend`). */
const SYSTEM_LOG_TYPES = { backend: "web", worker: "worker", realtime: "realtime", studio: "studio" } as const;

export const listSystemLogsInput = z.object({
  type: z.enum(["all", ...(Object.keys(SYSTEM_LOG_TYPES) as (keyof typeof SYSTEM_LOG_TYPES)[])], { error: `type must be all, ${Object.keys(SYSTEM_LOG_TYPES).join(", ")}` }).default("all"),
  limit: z.coerce.number({ error: "limit must be a number" }).int({ error: "limit must be an integer" }).min(1, { error: "limit must be ≥ 1" }).max(1000, { error: "limit must be ≤ 1000" }).default(100),
});

/**
 * The newest lines, oldest first. Only studio administrators read them: the processes serve every
 * team, so their output may name any team's experiments and files.
 */
export async function listSystemLogs(ctx: Ctx, input: z.input<typeof listSystemLogsInput> = {}): Promise<SystemLogRow[]> {
  if (!ctx.caller.isAdmin) throw new Forbidden("Only studio administrators can read the system logs");
  const { type, limit } = parseInput(listSystemLogsInput, input);
  const rows = await ctx.db
    .select()
    .from(systemLogs)
    .where(type === "all" ? undefined : eq(systemLogs.source, SYSTEM_LOG_TYPES[type]))
    .orderBy(desc(systemLogs.id))
    .limit(limit);
  return rows.reverse();
}

/** Keeps the newest `keep` lines. */
export async function pruneSystemLogs(db: DbOrTx, keep: number): Promise<void> {
  await db.delete(systemLogs).where(lt(systemLogs.id, sql`(select coalesce(max(${systemLogs.id}), 0) - ${keep} + 1 from ${systemLogs})`));
}

/** Lines from stderr count as errors unless they say they are warnings (console.warn writes there too). */
export function levelOf(stream: "stdout" | "stderr", line: string): SystemLogLevel {
  if (stream === "stdout") return /\bwarn(ing)?\b/i.test(line) ? "warn" : "info";
  return /\bwarn(ing)?\b/i.test(line) ? "warn" : "error";
}

export interface SystemLogSink {
  add(source: string, level: SystemLogLevel, message: string): void;
  /** Writes what is buffered. */
  close(): Promise<void>;
}

const MAX_MESSAGE_CHARS = 4000;

/**
 * Buffers lines and writes them in one insert every `flushMs`, pruning to `keep` lines now and then.
 * Writing never blocks or fails the processes being logged: a failed write drops its lines.
 */
export function createSystemLogSink(db: DbOrTx, opts: { flushMs?: number; keep?: number; onError?: (error: Error) => void } = {}): SystemLogSink {
  const keep = opts.keep ?? 20_000;
  let pending: { source: string; level: SystemLogLevel; message: string; at: Date }[] = [];
  let writes = 0;
  let writing = Promise.resolve();
  const flush = () => {
    if (pending.length === 0) return writing;
    const rows = pending;
    pending = [];
    writing = writing
      .then(async () => {
        await db.insert(systemLogs).values(rows);
        if (++writes % 100 === 0) await pruneSystemLogs(db, keep);
      })
      .catch((error: Error) => opts.onError?.(error));
    return writing;
  };
  const timer = setInterval(() => void flush(), opts.flushMs ?? 1000);
  timer.unref();
  return {
    add(source, level, message) {
      pending.push({ source, level, message: message.slice(0, MAX_MESSAGE_CHARS), at: new Date() });
    },
    async close() {
      clearInterval(timer);
      await flush();
    },
  };
}
