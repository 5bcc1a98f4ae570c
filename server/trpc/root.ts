import { router } from "./init";
import { accountRouter } from "./routers/account";
import { adminRouter } from "./routers/admin";
import { augmentationsRouter } from "./routers/augmentations";
import { datasetsRouter } from "./routers/datasets";
import { projectsRouter } from "./routers/projects";
import { systemRouter } from "./routers/system";

export const appRouter = router({
  account: accountRouter,
  admin: adminRouter,
  augmentations: augmentationsRouter,
  datasets: datasetsRouter,
  projects: projectsRouter,
  system: systemRouter,
});

export type AppRouter = typeof appRouter;
