import { bigserial, customType, index, integer, jsonb, pgTable, text, timestamp, uniqueIndex } from "drizzle-orm/pg-core";

/** One row per worker process; the heartbeat tells /api/health and the fleet view who is alive. */
export const workers = pgTable(
  "workers",
  {
    id: integer("id").primaryKey().generatedAlwaysAsIdentity(),
    kind: text("kind").notNull(),
    host: text("host").notNull(),
    pid: integer("pid").notNull(),
    slots: integer("slots").notNull().default(1),
    devices: jsonb("devices").$type<{ device: string; backend: string; description: string }[]>().notNull().default([]),
    version: text("version").notNull(),
    startedAt: timestamp("started_at", { withTimezone: true }).notNull().defaultNow(),
    heartbeatAt: timestamp("heartbeat_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [uniqueIndex("workers_kind_host_pid_unique").on(t.kind, t.host, t.pid)],
);

/** Used by @socket.io/postgres-adapter for packets too large for NOTIFY; declared so migrations own it. */
export const socketIoAttachments = pgTable("socket_io_attachments", {
  id: bigserial("id", { mode: "number" }).unique(),
  createdAt: timestamp("created_at", { withTimezone: true }).defaultNow(),
  payload: customType<{ data: Buffer }>({ dataType: () => "bytea" })("payload"),
});

/**
 * What the studio's own processes printed (the supervisor captures its children's output): the
 * newest lines for `GET /api/v1/system/logs` and the System page. Pruned to the newest rows.
 */
export const systemLogs = pgTable(
  "system_logs",
  {
    id: bigserial("id", { mode: "number" }).primaryKey(),
    at: timestamp("at", { withTimezone: true }).notNull().defaultNow(),
    /** The process: studio (the supervisor), web, worker (training), realtime. */
    source: text("source").notNull(),
    level: text("level").$type<"info" | "warn" | "error">().notNull(),
    message: text("message").notNull(),
  },
  (t) => [index("system_logs_source_id_idx").on(t.source, t.id)],
);
