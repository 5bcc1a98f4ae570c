import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDb, type TestDb } from "@/db/testing/test-db";
import { EventTooLarge, InvalidEvent, publish, subscribe, type Subscription } from "./bus";
import type { StudioEvent } from "./types";

let tdb: TestDb;
let subscription: Subscription;
const received: StudioEvent[] = [];
let reconnects = 0;

const pong = (nonce: string, teamId = 1): StudioEvent => ({ type: "system.pong", teamId, topic: `team:${teamId}`, nonce, jobId: "j" });
const nonces = () => received.map((e) => (e.type === "system.pong" ? e.nonce : ""));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

beforeAll(async () => {
  tdb = await createTestDb();
  subscription = await subscribe(tdb.url, (e) => received.push(e), { probeIntervalMs: 300, onReconnect: () => reconnects++ });
});
afterAll(async () => {
  await subscription?.close();
  await tdb?.close();
});

describe("event bus", () => {
  it("delivers an event published through drizzle or postgres.js", async () => {
    await publish(tdb.db, pong("via-drizzle"));
    await publish(tdb.sql, pong("via-sql"));
    await expect.poll(nonces).toEqual(expect.arrayContaining(["via-drizzle", "via-sql"]));
  });

  it("delivers an event published in a transaction only when it commits", async () => {
    await tdb.db.transaction(async (tx) => {
      await publish(tx, pong("committed"));
      await sleep(300);
      expect(nonces()).not.toContain("committed");
    });
    await expect.poll(nonces).toContain("committed");

    await tdb.db
      .transaction(async (tx) => {
        await publish(tx, pong("rolled-back"));
        throw new Error("roll back");
      })
      .catch(() => {});
    await publish(tdb.db, pong("after-rollback"));
    await expect.poll(nonces).toContain("after-rollback");
    expect(nonces()).not.toContain("rolled-back");
  });

  it("refuses an event over NOTIFY's size limit", async () => {
    const huge = { ...pong("x"), nonce: "x".repeat(250) } as StudioEvent;
    await expect(publish(tdb.db, huge)).rejects.toBeInstanceOf(InvalidEvent);
    const oversize = { type: "system.pong", teamId: 1, topic: "team:1", nonce: "n", jobId: "y".repeat(9000) } as StudioEvent;
    await expect(publish(tdb.db, oversize)).rejects.toBeInstanceOf(EventTooLarge);
  });

  it("refuses an event whose team and topic disagree", async () => {
    const wrongTeam = { ...pong("w", 1), topic: "team:2" } as StudioEvent;
    await expect(publish(tdb.db, wrongTeam)).rejects.toThrow(/team:2 does not belong to team 1/);
    const teamlessTeamTopic = { ...pong("w", 1), teamId: null } as StudioEvent;
    await expect(publish(tdb.db, teamlessTeamTopic)).rejects.toThrow(/teamId/);
  });

  it("comes back after its connection is killed and reports the gap", async () => {
    const before = reconnects;
    await tdb.sql`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'studio-events' AND datname = current_database() AND query ILIKE 'listen%'`;
    await expect.poll(() => reconnects, { timeout: 10_000 }).toBeGreaterThan(before);
    await publish(tdb.db, pong("after-reconnect"));
    await expect.poll(nonces, { timeout: 5000 }).toContain("after-reconnect");
  });
});
