import { connect } from "@/db/client";
import { startTestSampler } from "@/server/system/testing";

/** The host sampler alone in a process, as a training worker runs it, for `npm run bench:fleet` to measure. */
const handle = connect(process.argv[2], { max: 2 });
const sampler = await startTestSampler(handle.db, { intervalMs: 1000 });
console.log("ready");
process.on("SIGTERM", async () => {
  await sampler.stop();
  console.log(JSON.stringify({ written: sampler.written, leading: sampler.leading }));
  await handle.close();
  process.exit(0);
});
