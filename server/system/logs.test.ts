import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { systemLogs } from "@/db/schema";
import { ctxFor, seedMemberAndOutsider, seedUser } from "@/db/testing/fixtures";
import { createTestDb, type TestDb } from "@/db/testing/test-db";
import type { Ctx } from "@/server/context";
import { Forbidden } from "@/server/errors";
import { createSystemLogSink, levelOf, listSystemLogs, pruneSystemLogs } from "./logs";

let tdb: TestDb;
let admin: Ctx;
let member: Ctx;

beforeAll(async () => {
  tdb = await createTestDb();
  const seeded = await seedMemberAndOutsider(tdb.db);
  member = seeded.member;
  const a = await seedUser(tdb.db, { email: "admin@x.io", isAdmin: true, teams: [{ teamId: seeded.team.id, role: "owner" }] });
  admin = await ctxFor(tdb.db, a.id, seeded.team.id);
});
afterAll(async () => tdb?.close());

describe("system logs", () => {
  it("keeps what the processes print and gives studio administrators the newest lines, oldest first, by process", async () => {
    const sink = createSystemLogSink(tdb.db, { flushMs: 60_000 });
    sink.add("studio", "info", "database migrated");
    sink.add("web", "info", "[web] studio on http://localhost:3000");
    sink.add("worker", "error", "[run 3] something failed");
    sink.add("web", "warn", "[web] slow request");
    await sink.close();

    expect((await listSystemLogs(admin)).map((r) => [r.source, r.level, r.message])).toEqual([
      ["studio", "info", "database migrated"],
      ["web", "info", "[web] studio on http://localhost:3000"],
      ["worker", "error", "[run 3] something failed"],
      ["web", "warn", "[web] slow request"],
    ]);
    expect((await listSystemLogs(admin, { type: "backend" })).map((r) => r.message)).toEqual(["[web] studio on http://localhost:3000", "[web] slow request"]);
    expect((await listSystemLogs(admin, { type: "worker", limit: 5 })).map((r) => r.level)).toEqual(["error"]);
    expect((await listSystemLogs(admin, { limit: 2 })).map((r) => r.message)).toEqual(["[run 3] something failed", "[web] slow request"]);
  });

  it("is closed to everyone but studio administrators: the processes serve every team", async () => {
    await expect(listSystemLogs(member)).rejects.toBeInstanceOf(Forbidden);
  });

  it("prunes to the newest lines", async () => {
    const sink = createSystemLogSink(tdb.db, { flushMs: 60_000 });
    for (let i = 0; i < 10; i++) sink.add("studio", "info", `line ${i}`);
    await sink.close();
    await pruneSystemLogs(tdb.db, 3);
    expect((await tdb.db.select().from(systemLogs)).map((r) => r.message)).toEqual(["line 7", "line 8", "line 9"]);
  });

  it("reads stderr as errors unless a line says it is a warning", () => {
    expect(levelOf("stdout", "[web] ready")).toBe("info");
    expect(levelOf("stderr", "[web] request failed TypeError: x")).toBe("error");
    expect(levelOf("stderr", "(node:12) Warning: something is deprecated")).toBe("warn");
  });
});
