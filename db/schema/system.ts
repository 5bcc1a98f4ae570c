import { bigserial, customType, integer, jsonb, pgTable, text, timestamp, uniqueIndex } from "drizzle-orm/pg-core";

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
