import { integer, jsonb, pgTable, text, timestamp, uniqueIndex } from "drizzle-orm/pg-core";
import { users } from "./auth";
import { architectures, type ArchitectureSummary } from "./experiments";

/** Every saved graph of an architecture, numbered from 1; the architecture row holds the newest. */
export const architectureVersions = pgTable(
  "architecture_versions",
  {
    id: integer("id").primaryKey().generatedAlwaysAsIdentity(),
    architectureId: integer("architecture_id").notNull().references(() => architectures.id, { onDelete: "cascade" }),
    version: integer("version").notNull(),
    /** The architecture's name when this version was saved. */
    name: text("name").notNull(),
    graph: jsonb("graph").$type<{ nodes: unknown[]; edges: unknown[] }>().notNull(),
    summary: jsonb("summary").$type<ArchitectureSummary>().notNull(),
    createdBy: integer("created_by").references(() => users.id, { onDelete: "set null" }),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [uniqueIndex("architecture_versions_architecture_version_unique").on(t.architectureId, t.version)],
);
