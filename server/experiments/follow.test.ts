import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createDialectWorld, type DialectWorld } from "@/server/compat/shared/testing";
import { NotFound } from "@/server/errors";
import { topicWakeups } from "@/server/events/topic-wakeups";
import { followExperiment, type FollowedItem } from "./follow";
import { appendLog, claimLease, finishRun, recordMetrics, type Lease } from "./lease";
import { createExperiment } from "./lifecycle";

let w: DialectWorld;

beforeAll(async () => {
  w = await createDialectWorld();
}, 120_000);
afterAll(async () => {
  await w?.close();
});

async function runningExperiment(name: string): Promise<{ id: number; lease: Lease }> {
  const experiment = await createExperiment(w.ctx, { projectId: w.defaultProjectId, name, datasetId: w.datasetId, model: "reference-cnn", hyperparameters: { epochs: 3 }, start: true }, { boss: w.boss });
  const lease = await claimLease(w.tdb.db, experiment.id, experiment.attempt);
  if (!lease) throw new Error(`could not claim experiment ${experiment.id}`);
  return { id: experiment.id, lease };
}

const line = (message: string) => ({ level: "info" as const, stage: "training" as const, message });
const seqs = (items: FollowedItem[]) => items.flatMap((item) => (item.type === "log" ? [item.log.seq] : []));

describe("following an experiment", () => {
  it("replays the lines after a sequence number, then the status, once, and ends without a watch", async () => {
    const { id, lease } = await runningExperiment("replayed");
    for (const text of ["one", "two", "three"]) await appendLog(w.tdb.db, lease, line(text));
    const items: FollowedItem[] = [];
    for await (const item of followExperiment(w.ctx, id, { since: 1 })) items.push(item);
    expect(items.map((item) => (item.type === "log" ? item.log.message : item.type))).toEqual(["two", "three", "status", "caught-up"]);
    expect(items.find((item) => item.type === "status")).toMatchObject({ experiment: { id, status: "running" } });
  });

  it("turns the replay into the live stream with no line missed or sent twice, and ends with the finished run", async () => {
    const { id, lease } = await runningExperiment("followed");
    for (let i = 0; i < 3; i++) await appendLog(w.tdb.db, lease, line(`before ${i}`));
    const items: FollowedItem[] = [];
    let writing: Promise<void> | null = null;
    const wakeups = topicWakeups(w.tdb.url);
    // An hour without events would not wake it: only the run's own events move it on.
    for await (const item of followExperiment(w.ctx, id, { since: 0, metrics: true, watch: (topic) => wakeups.watch(topic), idleCheckMs: 3_600_000, untilFinished: true })) {
      items.push(item);
      // The run goes on writing while the replay is read: these lines fall between reading and waiting.
      writing ??= (async () => {
        for (let i = 0; i < 5; i++) await appendLog(w.tdb.db, lease, line(`live ${i}`));
        await recordMetrics(w.tdb.db, lease, { epoch: 1, step: 0, values: { loss: 0.5 } }, { currentEpoch: 1 });
        await finishRun(w.tdb.db, lease, { status: "completed" });
      })();
    }
    await writing;
    expect(seqs(items)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(items.filter((item) => item.type === "metrics")).toMatchObject([{ point: { epoch: 1, values: { loss: 0.5 } } }]);
    expect(items.filter((item) => item.type === "status").map((item) => (item.type === "status" ? item.experiment.status : null))).toEqual(["running", "completed"]);
  });

  it("starts with what happens next when given no sequence number, and stops when told to", async () => {
    const { id, lease } = await runningExperiment("from-now");
    await appendLog(w.tdb.db, lease, line("old"));
    const stop = new AbortController();
    const wakeups = topicWakeups(w.tdb.url);
    const seen: string[] = [];
    const following = (async () => {
      for await (const item of followExperiment(w.ctx, id, { watch: (topic) => wakeups.watch(topic), idleCheckMs: 3_600_000, signal: stop.signal })) {
        if (item.type === "caught-up" && seen.length === 0) await appendLog(w.tdb.db, lease, line("new"));
        if (item.type === "log") {
          seen.push(item.log.message);
          stop.abort();
        }
      }
    })();
    await following;
    expect(seen).toEqual(["new"]);
  });

  it("reads another team's experiment as missing", async () => {
    const { id } = await runningExperiment("private");
    const reading = followExperiment(w.otherCtx, id, { since: 0 }).next();
    await expect(reading).rejects.toBeInstanceOf(NotFound);
  });
});
