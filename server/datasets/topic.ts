import { and, eq } from "drizzle-orm";
import { datasets, projects } from "@/db/schema";
import type { TopicKind } from "@/server/realtime/topics";

/** `dataset:<id>` carries import progress; followable when the dataset belongs to the caller's team. */
export const datasetTopic: TopicKind = {
  async authorize(db, caller, id) {
    const [row] = await db
      .select({ id: datasets.id })
      .from(datasets)
      .innerJoin(projects, eq(projects.id, datasets.projectId))
      .where(and(eq(datasets.id, id), eq(projects.teamId, caller.teamId)));
    return Boolean(row);
  },
};
