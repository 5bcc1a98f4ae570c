import { cancelQueuedRun, fleetView, queuedRunInput, reprioritiseInput, reprioritiseQueuedRun } from "@/server/system/fleet";
import { listSystemLogs, listSystemLogsInput } from "@/server/system/logs";
import { runSeriesInput, runSystemSeries } from "@/server/system/run-series";
import { availableTrainingDevices, systemHealth, systemWorkers } from "@/server/system/service";
import { authed, router } from "../init";

// The fleet services check studio-admin rights themselves; the router stays thin.
export const systemRouter = router({
  health: authed.query(({ ctx }) => systemHealth(ctx.svc)),
  workers: authed.query(({ ctx }) => systemWorkers(ctx.svc)),
  devices: authed.query(({ ctx }) => availableTrainingDevices(ctx.svc)),
  logs: authed.input(listSystemLogsInput).query(({ ctx, input }) => listSystemLogs(ctx.svc, input)),
  fleet: authed.query(({ ctx }) => fleetView(ctx.svc)),
  runSeries: authed.input(runSeriesInput).query(({ ctx, input }) => runSystemSeries(ctx.svc, input)),
  cancelQueued: authed.input(queuedRunInput).mutation(({ ctx, input }) => cancelQueuedRun(ctx.svc, input)),
  reprioritise: authed.input(reprioritiseInput).mutation(({ ctx, input }) => reprioritiseQueuedRun(ctx.svc, input)),
});
