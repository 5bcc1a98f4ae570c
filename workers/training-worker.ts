import { getDb } from "@/db/client";
import { env } from "@/server/env";
import { killRunProcesses, runningChildren } from "@/server/experiments/job";
import { startReaper } from "@/server/experiments/reaper";
import { jobRegistry } from "@/server/jobs";
import { runWorker } from "@/server/jobs/worker-process";
import { startHostSampler } from "@/server/system/sampler";

/** A training worker: works the studio's pg-boss queues, one training job per slot, and beats a heartbeat. */
const { db, close } = getDb();
const slots = env().STUDIO_WORKER_SLOTS ?? 1;
const worker = await runWorker({ db, databaseUrl: env().DATABASE_URL!, registry: jobRegistry, slots });
// Every worker reaps: a run whose worker died is recovered by whichever worker is left.
const reaper = startReaper(db, worker.boss);
// One worker per host samples it once a second (system_samples, /ws/system, the fleet page).
const sampler = startHostSampler({ db, workerId: () => worker.workerId, dataDir: env().dataDir, runs: () => runningChildren });
console.log(`[worker] ${worker.workerId} ready: pid ${process.pid}, ${slots} slot(s), queues ${jobRegistry.jobs.map((j) => `${j.name} v${j.version}`).join(", ")}`);

let stopping = false;
async function shutdown(signal: string) {
  if (stopping) return;
  stopping = true;
  console.log(`[worker] ${signal}: stopping; running runs are re-queued from their last checkpoint`);
  try {
    reaper.stop();
    await sampler.stop();
    killRunProcesses(signal);
    await worker.stop(25_000);
    await close();
    process.exit(0);
  } catch (error) {
    console.error(`[worker] unclean shutdown: ${(error as Error).message}`);
    process.exit(1);
  }
}
process.on("SIGTERM", () => void shutdown("SIGTERM"));
process.on("SIGINT", () => void shutdown("SIGINT"));
// The supervisor gone (even by SIGKILL) closes this channel: stop rather than work on unsupervised.
if (process.connected) process.once("disconnect", () => void shutdown("supervisor gone"));
