import { deleteTrainingConfig, listTrainingConfigs, saveTrainingConfig } from "@/server/training-configs/service";
import { listTrainingConfigsInput, saveTrainingConfigInput, trainingConfigByIdInput } from "@/server/training-configs/schemas";
import { authed, role, router } from "../init";

export const trainingConfigsRouter = router({
  list: authed.input(listTrainingConfigsInput).query(({ ctx, input }) => listTrainingConfigs(ctx.svc, input)),
  save: role("member").input(saveTrainingConfigInput).mutation(({ ctx, input }) => saveTrainingConfig(ctx.svc, input)),
  delete: role("member").input(trainingConfigByIdInput).mutation(({ ctx, input }) => deleteTrainingConfig(ctx.svc, input.id)),
});
