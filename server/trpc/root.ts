import { router } from "./init";
import { accountRouter } from "./routers/account";
import { adminRouter } from "./routers/admin";
import { projectsRouter } from "./routers/projects";

export const appRouter = router({
  account: accountRouter,
  admin: adminRouter,
  projects: projectsRouter,
});

export type AppRouter = typeof appRouter;
