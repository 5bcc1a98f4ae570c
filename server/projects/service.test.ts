import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDb, type TestDb } from "@/db/testing/test-db";
import { ctxFor, seedTeam, seedUser } from "@/db/testing/fixtures";
import type { Ctx } from "@/server/context";
import { Conflict, Forbidden, NotFound } from "@/server/errors";
import { createProject, deleteProject, getProject, listProjects, renameProject } from "./service";

let tdb: TestDb;
let member: Ctx;
let viewer: Ctx;
let admin: Ctx;
let outsider: Ctx;

beforeAll(async () => {
  tdb = await createTestDb();
  const team = await seedTeam(tdb.db, "Vision");
  const other = await seedTeam(tdb.db, "Other");
  const m = await seedUser(tdb.db, { email: "m@x.io", teams: [{ teamId: team.id, role: "member" }] });
  const v = await seedUser(tdb.db, { email: "v@x.io", teams: [{ teamId: team.id, role: "viewer" }] });
  const a = await seedUser(tdb.db, { email: "a@x.io", teams: [{ teamId: team.id, role: "admin" }] });
  const o = await seedUser(tdb.db, { email: "o@x.io", teams: [{ teamId: other.id, role: "owner" }] });
  member = await ctxFor(tdb.db, m.id, team.id);
  viewer = await ctxFor(tdb.db, v.id, team.id);
  admin = await ctxFor(tdb.db, a.id, team.id);
  outsider = await ctxFor(tdb.db, o.id, other.id);
});
afterAll(() => tdb.close());

describe("projects service", () => {
  it("every team starts with its default project", async () => {
    expect((await listProjects(member)).map((p) => p.name)).toEqual(["default"]);
  });

  it("creates, renames and deletes a project within the caller's team", async () => {
    const created = await createProject(member, { name: "shapes", description: "" });
    expect((await listProjects(member)).map((p) => p.name)).toContain("shapes");
    const renamed = await renameProject(member, { id: created.id, name: "shapes-v2" });
    expect(renamed.name).toBe("shapes-v2");
    await deleteProject(admin, { id: created.id });
    await expect(getProject(member, created.id)).rejects.toBeInstanceOf(NotFound);
  });

  it("refuses a duplicate name in the same team but allows it in another team", async () => {
    await createProject(member, { name: "dup", description: "" });
    await expect(createProject(member, { name: "dup", description: "" })).rejects.toBeInstanceOf(Conflict);
    await expect(createProject(outsider, { name: "dup", description: "" })).resolves.toMatchObject({ name: "dup" });
  });

  it("hides another team's project as not found", async () => {
    const mine = await createProject(member, { name: "private", description: "" });
    await expect(getProject(outsider, mine.id)).rejects.toBeInstanceOf(NotFound);
    await expect(renameProject(outsider, { id: mine.id, name: "stolen" })).rejects.toBeInstanceOf(NotFound);
    expect((await listProjects(outsider)).map((p) => p.name)).not.toContain("private");
  });

  it("lets viewers read but not change, and members not delete", async () => {
    await expect(listProjects(viewer)).resolves.toBeInstanceOf(Array);
    await expect(createProject(viewer, { name: "nope", description: "" })).rejects.toBeInstanceOf(Forbidden);
    const p = await createProject(member, { name: "keep", description: "" });
    await expect(deleteProject(member, { id: p.id })).rejects.toBeInstanceOf(Forbidden);
  });

  it("protects the default project", async () => {
    const def = (await listProjects(admin)).find((p) => p.name === "default")!;
    await expect(deleteProject(admin, { id: def.id })).rejects.toBeInstanceOf(Conflict);
  });
});
