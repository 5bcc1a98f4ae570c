import { encode } from "next-auth/jwt";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDb, type TestDb } from "@/db/testing/test-db";
import { ctxFor, seedTeam, seedUser } from "@/db/testing/fixtures";
import { withCaller } from "@/server/http/handler";
import { RateLimited, Unauthorized } from "@/server/errors";
import { createProject } from "@/server/projects/service";
import { callTrpc, TEST_ORIGIN } from "@/server/trpc/testing";
import { createApiKey, revokeApiKey } from "./api-keys";
import { apiLogin, apiLogout } from "./api-login";
import { authenticate } from "./callers";
import { studioSecret } from "./secret";
import { setUserDisabled } from "./users";
import { restError } from "@/server/http/rest-error";

let tdb: TestDb;
let teamA: { id: number };
let teamB: { id: number };
let member: { id: number };
let viewer: { id: number };
let outsider: { id: number };

async function sessionCookie(userId: number, teamId: number) {
  const token = await encode({ token: { sub: String(userId), teamId }, secret: studioSecret() });
  return `next-auth.session-token=${token}`;
}

beforeAll(async () => {
  tdb = await createTestDb();
  teamA = await seedTeam(tdb.db, "A");
  teamB = await seedTeam(tdb.db, "B");
  member = await seedUser(tdb.db, { email: "member@a.io", password: "right-password", teams: [{ teamId: teamA.id, role: "member" }] });
  viewer = await seedUser(tdb.db, { email: "viewer@a.io", teams: [{ teamId: teamA.id, role: "viewer" }] });
  outsider = await seedUser(tdb.db, { email: "owner@b.io", teams: [{ teamId: teamB.id, role: "owner" }] });
});
afterAll(() => tdb.close());

describe("who is calling", () => {
  it("accepts the studio session cookie", async () => {
    const caller = await authenticate(tdb.db, { cookie: await sessionCookie(member.id, teamA.id) });
    expect(caller).toMatchObject({ userId: member.id, teamId: teamA.id, role: "member", via: "session" });
  });

  it("refuses a forged session cookie", async () => {
    const forged = await encode({ token: { sub: String(member.id), teamId: teamA.id }, secret: "another-secret-another-secret-123" });
    expect(await authenticate(tdb.db, { cookie: `next-auth.session-token=${forged}` })).toBeNull();
  });

  it("accepts an API key for its team until it is revoked", async () => {
    const ctx = await ctxFor(tdb.db, member.id, teamA.id);
    const key = await createApiKey(ctx, { name: "ci" });
    expect(key.key.startsWith(key.prefix)).toBe(true);
    const caller = await authenticate(tdb.db, { authorization: `Bearer ${key.key}` });
    expect(caller).toMatchObject({ userId: member.id, teamId: teamA.id, via: "api_key" });
    await revokeApiKey(ctx, { id: key.id });
    expect(await authenticate(tdb.db, { authorization: `Bearer ${key.key}` })).toBeNull();
  });

  it("cuts a disabled user off at once, even right after a cached request", async () => {
    const doomed = await seedUser(tdb.db, { email: "doomed@a.io", teams: [{ teamId: teamA.id, role: "member" }] });
    const admin = await seedUser(tdb.db, { email: "root@a.io", isAdmin: true, teams: [{ teamId: teamA.id, role: "owner" }] });
    const key = await createApiKey(await ctxFor(tdb.db, doomed.id, teamA.id), { name: "soon revoked" });
    expect(await authenticate(tdb.db, { authorization: `Bearer ${key.key}` })).not.toBeNull();
    await setUserDisabled(await ctxFor(tdb.db, admin.id, teamA.id), { userId: doomed.id, disabled: true });
    expect(await authenticate(tdb.db, { authorization: `Bearer ${key.key}` })).toBeNull();
  });

  it("refuses a key whose secret part was altered", async () => {
    const key = await createApiKey(await ctxFor(tdb.db, member.id, teamA.id), { name: "tamper" });
    const altered = key.key.slice(0, -2) + (key.key.endsWith("AA") ? "BB" : "AA");
    expect(await authenticate(tdb.db, { authorization: `Bearer ${altered}` })).toBeNull();
  });

  it("issues a JWT at /api/v1/auth/login that works until logout revokes it", async () => {
    const { token, caller } = await apiLogin(tdb.db, { email: "member@a.io", password: "right-password" }, "10.0.0.1");
    expect(caller.userId).toBe(member.id);
    expect(await authenticate(tdb.db, { authorization: `Bearer ${token}` })).toMatchObject({ via: "jwt", teamId: teamA.id });
    await apiLogout(tdb.db, `Bearer ${token}`);
    expect(await authenticate(tdb.db, { authorization: `Bearer ${token}` })).toBeNull();
  });

  it("refuses a JWT signed with another algorithm or key", async () => {
    const header = Buffer.from(JSON.stringify({ alg: "none", typ: "JWT" })).toString("base64url");
    const payload = Buffer.from(JSON.stringify({ sub: String(member.id), team: teamA.id, exp: 9999999999 })).toString("base64url");
    expect(await authenticate(tdb.db, { authorization: `Bearer ${header}.${payload}.x` })).toBeNull();
  });

  it("answers 429 on the 11th failed login for an account and address, even with the right password", async () => {
    for (let i = 0; i < 10; i++) {
      await expect(apiLogin(tdb.db, { email: "viewer@a.io", password: `wrong-${i}` }, "10.9.9.9")).rejects.toBeInstanceOf(Unauthorized);
    }
    await expect(apiLogin(tdb.db, { email: "viewer@a.io", password: "password123" }, "10.9.9.9")).rejects.toBeInstanceOf(RateLimited);
    // Another address is not locked out by someone else's guessing.
    await expect(apiLogin(tdb.db, { email: "viewer@a.io", password: "password123" }, "10.1.1.1")).resolves.toMatchObject({});
    const res = restError(new RateLimited("Too many failed logins", 60));
    expect(res.status).toBe(429);
  });
});

describe("tRPC faces check the caller", () => {
  it("answers 401 without credentials", async () => {
    const res = await callTrpc(tdb.db, "projects.list");
    expect(res.status).toBe(401);
  });

  it("lists the caller's projects with a session cookie", async () => {
    const res = await callTrpc(tdb.db, "projects.list", { headers: { cookie: await sessionCookie(member.id, teamA.id) } });
    expect(res.status).toBe(200);
    expect((res.data as { name: string }[]).map((p) => p.name)).toContain("default");
  });

  it("answers 404 for another team's project", async () => {
    const theirs = await createProject(await ctxFor(tdb.db, outsider.id, teamB.id), { name: "secret", description: "" });
    const res = await callTrpc(tdb.db, "projects.byId", { input: { id: theirs.id }, headers: { cookie: await sessionCookie(member.id, teamA.id) } });
    expect(res.status).toBe(404);
  });

  it("answers 403 when a viewer tries to write", async () => {
    const res = await callTrpc(tdb.db, "projects.create", {
      mutation: true,
      input: { name: "nope" },
      headers: { cookie: await sessionCookie(viewer.id, teamA.id) },
    });
    expect(res.status).toBe(403);
  });

  it("flattens validation errors into field errors", async () => {
    const res = await callTrpc(tdb.db, "projects.create", {
      mutation: true,
      input: { name: "bad name/with slash" },
      headers: { cookie: await sessionCookie(member.id, teamA.id) },
    });
    expect(res.status).toBe(400);
    expect(res.error?.data.fieldErrors?.name?.[0]).toMatch(/letters, digits/);
  });

  it("refuses a cookie mutation from another origin", async () => {
    const res = await callTrpc(tdb.db, "projects.create", {
      mutation: true,
      input: { name: "csrf" },
      headers: { cookie: await sessionCookie(member.id, teamA.id), origin: "http://evil.example" },
    });
    expect(res.status).toBe(403);
  });
});

describe("REST faces check the caller", () => {
  const ok = async () => Response.json({ ok: true });

  it("answers 401 in the dialect's envelope without credentials", async () => {
    const res = await withCaller(new Request(`${TEST_ORIGIN}/api/v1/anything`), restError, ok, { db: tdb.db });
    expect(res.status).toBe(401);
    expect(await res.json()).toHaveProperty("detail");
  });

  it("accepts a Bearer API key", async () => {
    const key = await createApiKey(await ctxFor(tdb.db, member.id, teamA.id), { name: "rest" });
    const res = await withCaller(new Request(`${TEST_ORIGIN}/api/v1/anything`, { headers: { authorization: `Bearer ${key.key}` } }), restError, ok, { db: tdb.db });
    expect(res.status).toBe(200);
  });

  it("requires JSON for mutations", async () => {
    const key = await createApiKey(await ctxFor(tdb.db, member.id, teamA.id), { name: "form" });
    const req = new Request(`${TEST_ORIGIN}/api/v1/anything`, {
      method: "POST",
      headers: { authorization: `Bearer ${key.key}`, "content-type": "text/plain" },
      body: "x",
    });
    expect((await withCaller(req, restError, ok, { db: tdb.db })).status).toBe(400);
  });
});
