import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { seedUser } from "@/db/testing/fixtures";
import { createApiKey } from "@/server/auth/api-keys";
import { loadCaller } from "@/server/auth/callers";
import { createSystemLogSink } from "@/server/system/logs";
import { startTestSampler } from "@/server/system/testing";
import { getV1SystemLogs, getV1SystemStats } from "./system";
import { bearer, createDialectWorld, getRequest, type DialectWorld } from "@/server/compat/shared/testing";

let w: DialectWorld;
let adminKey: string;

beforeAll(async () => {
  w = await createDialectWorld();
  const admin = await seedUser(w.tdb.db, { email: "admin@x.io", isAdmin: true, teams: [{ teamId: w.teamId, role: "owner" }] });
  adminKey = (await createApiKey({ db: w.tdb.db, caller: (await loadCaller(w.tdb.db, admin.id, w.teamId, "api_key"))! }, { name: "admin" })).key;
  const sink = createSystemLogSink(w.tdb.db, { flushMs: 60_000 });
  sink.add("web", "info", "[web] studio on http://localhost:3000");
  sink.add("worker", "error", "[run 3] the run process exited with code 1");
  await sink.close();
}, 60_000);
afterAll(async () => w?.close());

const deps = () => ({ db: w.tdb.db });

describe("seed 002 /api/v1/system", () => {
  it("GET /system/stats answers the document's {gpu: {util, temp}, cpu: {…}} from the training host's newest sample", async () => {
    const empty = await getV1SystemStats(getRequest("/api/v1/system/stats", bearer(w.key)), deps());
    expect(empty.status).toBe(200);
    expect(await empty.json()).toMatchObject({ host: null, cpu: { util: null }, reason: expect.stringMatching(/no training host/) });

    const sampler = await startTestSampler(w.tdb.db);
    try {
      await expect.poll(() => sampler.written, { timeout: 15_000 }).toBeGreaterThan(0);
      for (const path of ["/api/v1/system/stats", `/api/v1/system/stats?host=${encodeURIComponent(sampler.host)}`]) {
        const res = await getV1SystemStats(getRequest(path, bearer(w.key)), deps());
        expect(res.status).toBe(200);
        const body = await res.json();
        expect(Object.keys(body).sort()).toEqual(["cpu", "disk", "gpu", "host", "memory", "reason", "sampled_at"]);
        expect(Object.keys(body.gpu)).toEqual(expect.arrayContaining(["util", "temp"]));
        expect(body).toMatchObject({ host: sampler.host, reason: null, gpu: { util: null, temp: null, unavailable: expect.stringMatching(/nvidia-smi/) } });
        expect(body.cpu.util).toBeGreaterThanOrEqual(0);
        expect(body.cpu.util).toBeLessThanOrEqual(100);
        expect(body.cpu.cores).toBeGreaterThanOrEqual(1);
        expect(body.memory.total).toBeGreaterThan(0);
        expect(body.memory.used).toBeLessThanOrEqual(body.memory.total);
      }
      const unknown = await getV1SystemStats(getRequest("/api/v1/system/stats?host=elsewhere", bearer(w.key)), deps());
      expect(unknown.status).toBe(404);
      expect(await unknown.json()).toMatchObject({ detail: expect.stringContaining("elsewhere"), errors: { host: ["unknown host"] } });
    } finally {
      await sampler.stop();
    }
  });

  it("GET /system/logs gives an administrator [{time, level, msg}] filtered by ?type and ?limit", async () => {
    const all = await getV1SystemLogs(getRequest("/api/v1/system/logs?limit=100", bearer(adminKey)), deps());
    expect(all.status).toBe(200);
    expect(await all.json()).toEqual([
      { time: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/), level: "INFO", msg: "[web] studio on http://localhost:3000" },
      { time: expect.any(String), level: "ERROR", msg: "[run 3] the run process exited with code 1" },
    ]);
    const backend = await getV1SystemLogs(getRequest("/api/v1/system/logs?type=backend&limit=1", bearer(adminKey)), deps());
    expect((await backend.json()).map((l: { msg: string }) => l.msg)).toEqual(["[web] studio on http://localhost:3000"]);
  });

  it("refuses logs to non-administrators (403), bad queries with the field (400) and callers without credentials (401)", async () => {
    const member = await getV1SystemLogs(getRequest("/api/v1/system/logs", bearer(w.key)), deps());
    expect(member.status).toBe(403);
    expect(await member.json()).toEqual({ detail: "Only studio administrators can read the system logs" });
    const bad = await getV1SystemLogs(getRequest("/api/v1/system/logs?type=gpu&limit=0", bearer(adminKey)), deps());
    expect(bad.status).toBe(400);
    expect(Object.keys((await bad.json()).errors).sort()).toEqual(["limit", "type"]);
    expect((await getV1SystemStats(getRequest("/api/v1/system/stats"), deps())).status).toBe(401);
    expect((await getV1SystemLogs(getRequest("/api/v1/system/logs"), deps())).status).toBe(401);
  });
});
