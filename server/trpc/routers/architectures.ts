import { analyzeArchitecture, createArchitecture, deleteArchitecture, getArchitecture, listArchitectures, updateArchitecture } from "@/server/architectures/service";
import { analyzeArchitectureInput, architectureByIdInput, createArchitectureInput, listArchitecturesInput, updateArchitectureInput } from "@/server/architectures/schemas";
import { authed, role, router } from "../init";

export const architecturesRouter = router({
  list: authed.input(listArchitecturesInput).query(({ ctx, input }) => listArchitectures(ctx.svc, input)),
  byId: authed.input(architectureByIdInput).query(({ ctx, input }) => getArchitecture(ctx.svc, input.id)),
  analyze: authed.input(analyzeArchitectureInput).query(({ input }) => analyzeArchitecture(input)),
  create: role("member").input(createArchitectureInput).mutation(({ ctx, input }) => createArchitecture(ctx.svc, input)),
  update: role("member").input(updateArchitectureInput).mutation(({ ctx, input }) => updateArchitecture(ctx.svc, input)),
  delete: role("member").input(architectureByIdInput).mutation(({ ctx, input }) => deleteArchitecture(ctx.svc, input.id)),
});
