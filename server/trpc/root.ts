import { router } from "./init";
import { accountRouter } from "./routers/account";
import { adminRouter } from "./routers/admin";
import { analysisRouter } from "./routers/analysis";
import { architecturesRouter } from "./routers/architectures";
import { augmentationsRouter } from "./routers/augmentations";
import { datasetsRouter } from "./routers/datasets";
import { experimentsRouter } from "./routers/experiments";
import { inferenceRouter } from "./routers/inference";
import { projectsRouter } from "./routers/projects";
import { systemRouter } from "./routers/system";
import { trainingConfigsRouter } from "./routers/training-configs";
import { weightsRouter } from "./routers/weights";

export const appRouter = router({
  account: accountRouter,
  admin: adminRouter,
  analysis: analysisRouter,
  architectures: architecturesRouter,
  augmentations: augmentationsRouter,
  datasets: datasetsRouter,
  experiments: experimentsRouter,
  inference: inferenceRouter,
  projects: projectsRouter,
  system: systemRouter,
  trainingConfigs: trainingConfigsRouter,
  weights: weightsRouter,
});

export type AppRouter = typeof appRouter;
