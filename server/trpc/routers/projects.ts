import { setDefaultDataset, setDefaultDatasetInput } from "@/server/projects/default-dataset";
import { createProject, deleteProject, getProject, listProjects, renameProject } from "@/server/projects/service";
import { createProjectInput, deleteProjectInput, projectByIdInput, renameProjectInput } from "@/server/projects/schemas";
import { authed, role, router } from "../init";

export const projectsRouter = router({
  list: authed.query(({ ctx }) => listProjects(ctx.svc)),
  byId: authed.input(projectByIdInput).query(({ ctx, input }) => getProject(ctx.svc, input.id)),
  create: role("member").input(createProjectInput).mutation(({ ctx, input }) => createProject(ctx.svc, input)),
  rename: role("member").input(renameProjectInput).mutation(({ ctx, input }) => renameProject(ctx.svc, input)),
  setDefaultDataset: role("member").input(setDefaultDatasetInput).mutation(({ ctx, input }) => setDefaultDataset(ctx.svc, input)),
  delete: role("admin").input(deleteProjectInput).mutation(({ ctx, input }) => deleteProject(ctx.svc, input)),
});
