import os from "node:os";
import type { Db } from "@/db/client";
import { workers } from "@/db/schema";
import { startHostSampler, type HostSampler } from "./sampler";

/** This host sampled for real, as its training worker would: a worker row and a sampler leading it. */
export async function startTestSampler(db: Db, opts: { runs?: () => ReadonlyMap<number, number>; intervalMs?: number } = {}): Promise<HostSampler & { host: string }> {
  const host = os.hostname();
  const [row] = await db.insert(workers).values({ kind: "training", host, pid: process.pid, slots: 2, version: "test" }).returning({ id: workers.id });
  const sampler = startHostSampler({ db, workerId: () => row.id, dataDir: os.tmpdir(), runs: opts.runs ?? (() => new Map()), intervalMs: opts.intervalMs, leaderCheckMs: 0 });
  return Object.assign(sampler, { host });
}
