import os from "node:os";
import type { Db } from "@/db/client";
import { startHostSampler, type HostSampler } from "./sampler";
import { startHeartbeat } from "./workers";

/** This host sampled for real, as its training worker would: a worker row with a live heartbeat and a sampler leading it. */
export async function startTestSampler(db: Db, opts: { runs?: () => ReadonlyMap<number, number>; intervalMs?: number } = {}): Promise<HostSampler & { host: string }> {
  const heartbeat = await startHeartbeat(db, { kind: "training", slots: 2, devices: [], version: "test" }, 2000);
  const sampler = startHostSampler({ db, workerId: () => heartbeat.workerId, dataDir: os.tmpdir(), runs: opts.runs ?? (() => new Map()), intervalMs: opts.intervalMs, leaderCheckMs: 0 });
  return {
    host: os.hostname(),
    get written() {
      return sampler.written;
    },
    get leading() {
      return sampler.leading;
    },
    async stop() {
      await sampler.stop();
      await heartbeat.stop();
    },
  };
}
