import crypto from "node:crypto";
import { existsSync } from "node:fs";
import { mkdir, writeFile } from "node:fs/promises";
import path from "node:path";
import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { projects, weights } from "@/db/schema";
import { env } from "@/server/env";
import { createRouteWorld, type RouteWorld } from "@/server/http/testing";
import { deleteProject } from "@/server/projects/service";
import { storedWeightsPath, sweepOrphanWeightsFiles, weightsFilePath } from "./storage";

let w: RouteWorld;
beforeAll(async () => {
  w = await createRouteWorld();
}, 60_000);
afterAll(() => w?.close());

/** A stored file of `content` (content-addressed, as imports store it), with an entry for it in each of `projectIds`. */
async function stored(content: string, projectIds: number[]): Promise<string> {
  const sha256 = crypto.createHash("sha256").update(content).digest("hex");
  const file = storedWeightsPath(sha256, "onnx");
  await mkdir(path.dirname(weightsFilePath(file)), { recursive: true });
  await writeFile(weightsFilePath(file), content);
  for (const projectId of projectIds) await w.tdb.db.insert(weights).values({ projectId, name: content, format: "onnx", file, bytes: content.length, sha256 });
  return weightsFilePath(file);
}

describe("weights files whose entries are gone", () => {
  it("go when their project is deleted; files another project's entries share, and live ones, stay", async () => {
    const [doomed] = await w.tdb.db.insert(projects).values({ teamId: w.admin.caller.teamId, name: "doomed" }).returning();
    const onlyDoomed = await stored("only in the doomed project", [doomed.id]);
    const shared = await stored("in both projects", [doomed.id, w.ids.project]);
    const live = await stored("in the living project", [w.ids.project]);

    await deleteProject(w.admin, { id: doomed.id });

    expect(await w.tdb.db.select().from(weights).where(eq(weights.projectId, doomed.id))).toEqual([]);
    expect(existsSync(onlyDoomed)).toBe(false);
    expect(existsSync(path.dirname(onlyDoomed))).toBe(false);
    expect(existsSync(shared)).toBe(true);
    expect(existsSync(live)).toBe(true);
  });

  it("go on the sweep at start-up (entries removed while the studio was down); other folders are not touched", async () => {
    const orphan = await stored("an entry deleted by a cascade before a crash", []);
    const live = await stored("still in the library", [w.ids.project]);
    const stranger = path.join(env().dataDir, "weights", "not-a-content-folder");
    await mkdir(stranger, { recursive: true });

    const removed = await sweepOrphanWeightsFiles(w.tdb.db);

    expect(removed).toEqual([path.basename(path.dirname(orphan))]);
    expect(existsSync(path.dirname(orphan))).toBe(false);
    expect(existsSync(live)).toBe(true);
    expect(existsSync(weightsFilePath(storedWeightsPath("0".repeat(64), "onnx")))).toBe(true);
    expect(existsSync(stranger)).toBe(true);
    expect(await sweepOrphanWeightsFiles(w.tdb.db)).toEqual([]);
  });
});
