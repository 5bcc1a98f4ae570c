import { listSystemLogs, listSystemLogsInput } from "@/server/system/logs";
import { availableTrainingDevices, systemHealth, systemWorkers } from "@/server/system/service";
import { authed, router } from "../init";

export const systemRouter = router({
  health: authed.query(({ ctx }) => systemHealth(ctx.svc)),
  workers: authed.query(({ ctx }) => systemWorkers(ctx.svc)),
  devices: authed.query(({ ctx }) => availableTrainingDevices(ctx.svc)),
  logs: authed.input(listSystemLogsInput).query(({ ctx, input }) => listSystemLogs(ctx.svc, input)),
});
