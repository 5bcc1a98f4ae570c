import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { users } from "@/db/schema";
import { sessionCookie } from "@/server/compat/shared/testing";
import { ctxFor, seedTeam, seedUser } from "@/db/testing/fixtures";
import { createTestDb, type TestDb } from "@/db/testing/test-db";
import type { Ctx } from "@/server/context";
import { Forbidden, Invalid } from "@/server/errors";
import { createApiKey } from "./api-keys";
import { apiLogin } from "./api-login";
import { forgetCachedCallers } from "./caller-cache";
import { authenticate } from "./callers";
import { checkLogin } from "./login";
import { changePassword, resetPassword } from "./passwords";

let tdb: TestDb;
let teamId: number;

beforeAll(async () => {
  tdb = await createTestDb();
  teamId = (await seedTeam(tdb.db, "Vision")).id;
});
afterAll(() => tdb.close());

async function userWithCredentials(email: string, isAdmin = false) {
  const user = await seedUser(tdb.db, { email, password: "old-password", isAdmin, teams: [{ teamId, role: "member" }] });
  const ctx = await ctxFor(tdb.db, user.id, teamId);
  const credentials = {
    cookie: await sessionCookie(user.id, teamId),
    jwt: (await apiLogin(tdb.db, { email, password: "old-password" }, "127.0.0.1")).token,
    key: (await createApiKey(ctx, { name: "script" })).key,
  };
  // Credentials carry their issue time in whole seconds: the change must come in a later second.
  await new Promise((resolve) => setTimeout(resolve, 1100));
  return { user, ctx, credentials };
}

async function stillWorking(credentials: { cookie: string; jwt: string; key: string }) {
  forgetCachedCallers(tdb.db);
  return {
    session: (await authenticate(tdb.db, { cookie: credentials.cookie })) !== null,
    jwt: (await authenticate(tdb.db, { authorization: `Bearer ${credentials.jwt}` })) !== null,
    key: (await authenticate(tdb.db, { authorization: `Bearer ${credentials.key}` })) !== null,
  };
}

describe("changing one's password", () => {
  it("needs the current password and changes nothing when it is wrong", async () => {
    const { user, ctx, credentials } = await userWithCredentials("wrong@x.io");
    const [before] = await tdb.db.select().from(users).where(eq(users.id, user.id));
    await expect(changePassword(ctx, { currentPassword: "guess", newPassword: "new-password-1" })).rejects.toMatchObject({ fields: { currentPassword: ["wrong password"] } });
    await expect(changePassword(ctx, { currentPassword: "old-password", newPassword: "short" })).rejects.toThrow(Invalid);
    const [after] = await tdb.db.select().from(users).where(eq(users.id, user.id));
    expect(after.passwordHash).toBe(before.passwordHash);
    expect(await stillWorking(credentials)).toEqual({ session: true, jwt: true, key: true });
  });

  it("ends the sessions, JWTs and API keys issued before, and the new password logs in", async () => {
    const { ctx, credentials } = await userWithCredentials("change@x.io");
    await changePassword(ctx, { currentPassword: "old-password", newPassword: "new-password-1" });
    expect(await stillWorking(credentials)).toEqual({ session: false, jwt: false, key: false });
    await expect(checkLogin(tdb.db, "change@x.io", "old-password", "127.0.0.2")).rejects.toThrow();
    const fresh = await apiLogin(tdb.db, { email: "change@x.io", password: "new-password-1" }, "127.0.0.2");
    expect(await authenticate(tdb.db, { authorization: `Bearer ${fresh.token}` })).toMatchObject({ email: "change@x.io" });
  });
});

describe("an administrator's reset", () => {
  let admin: Ctx;
  beforeAll(async () => {
    const user = await seedUser(tdb.db, { email: "admin@x.io", isAdmin: true, teams: [{ teamId, role: "owner" }] });
    admin = await ctxFor(tdb.db, user.id, teamId);
  });

  it("sets another user's password and ends their credentials", async () => {
    const { user, credentials } = await userWithCredentials("forgot@x.io");
    await resetPassword(admin, { userId: user.id, newPassword: "given-by-admin" });
    expect(await stillWorking(credentials)).toEqual({ session: false, jwt: false, key: false });
    expect(await checkLogin(tdb.db, "forgot@x.io", "given-by-admin", "127.0.0.3")).toMatchObject({ id: user.id });
  });

  it("is refused to anyone but a studio administrator", async () => {
    const { user, ctx, credentials } = await userWithCredentials("plain@x.io");
    await expect(resetPassword(ctx, { userId: user.id, newPassword: "self-service" })).rejects.toThrow(Forbidden);
    expect(await stillWorking(credentials)).toEqual({ session: true, jwt: true, key: true });
  });
});
