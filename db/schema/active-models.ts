import { integer, pgTable, timestamp } from "drizzle-orm/pg-core";
import { teams, users } from "./auth";
import { weights } from "./weights";

/**
 * The weights entry each team's old recognition clients (seed 003, `POST /models/active`) infer with.
 * Deleting the entry clears the choice.
 */
export const activeModels = pgTable("active_models", {
  teamId: integer("team_id").primaryKey().references(() => teams.id, { onDelete: "cascade" }),
  weightsId: integer("weights_id").notNull().references(() => weights.id, { onDelete: "cascade" }),
  setBy: integer("set_by").references(() => users.id, { onDelete: "set null" }),
  updatedAt: timestamp("updated_at", { withTimezone: true }).notNull().defaultNow(),
});
