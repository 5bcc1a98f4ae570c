import { index, integer, pgTable, text, timestamp, uniqueIndex, type AnyPgColumn } from "drizzle-orm/pg-core";
import { teams } from "./auth";
import { datasets } from "./datasets";

export const projects = pgTable(
  "projects",
  {
    id: integer("id").primaryKey().generatedAlwaysAsIdentity(),
    teamId: integer("team_id").notNull().references(() => teams.id, { onDelete: "cascade" }),
    name: text("name").notNull(),
    description: text("description").notNull().default(""),
    /** What old clients (seeds 000 and 003) train on when their request names no dataset. */
    defaultDatasetId: integer("default_dataset_id").references((): AnyPgColumn => datasets.id, { onDelete: "set null" }),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp("updated_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [uniqueIndex("projects_team_name_unique").on(t.teamId, t.name), index("projects_team_idx").on(t.teamId)],
);
