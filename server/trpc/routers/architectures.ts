import { exportYaml, graphCode, inspectGraph, nodeTypes, parseYaml, template, templates } from "@/server/architectures/editor";
import {
  architectureByIdInput,
  architectureVersionInput,
  createArchitectureInput,
  exportYamlInput,
  graphCodeInput,
  importYamlInput,
  inspectGraphInput,
  listArchitecturesInput,
  parseYamlInput,
  templateInput,
  updateArchitectureInput,
} from "@/server/architectures/schemas";
import {
  createArchitecture,
  deleteArchitecture,
  getArchitecture,
  getArchitectureVersion,
  importArchitectureYaml,
  listArchitectures,
  listArchitectureVersions,
  updateArchitecture,
} from "@/server/architectures/service";
import { authed, role, router } from "../init";

export const architecturesRouter = router({
  list: authed.input(listArchitecturesInput).query(({ ctx, input }) => listArchitectures(ctx.svc, input)),
  byId: authed.input(architectureByIdInput).query(({ ctx, input }) => getArchitecture(ctx.svc, input.id)),
  versions: authed.input(architectureByIdInput).query(({ ctx, input }) => listArchitectureVersions(ctx.svc, input.id)),
  version: authed.input(architectureVersionInput).query(({ ctx, input }) => getArchitectureVersion(ctx.svc, input.id, input.version)),
  // Mutations (POST) because a graph can outgrow a URL; neither saves anything.
  inspect: authed.input(inspectGraphInput).mutation(({ input }) => inspectGraph(input)),
  nodeTypes: authed.query(() => nodeTypes()),
  templates: authed.query(() => templates()),
  template: authed.input(templateInput).query(({ input }) => template(input)),
  parseYaml: authed.input(parseYamlInput).mutation(({ input }) => parseYaml(input)),
  exportYaml: authed.input(exportYamlInput).mutation(({ input }) => exportYaml(input)),
  code: authed.input(graphCodeInput).mutation(({ input }) => graphCode(input)),
  create: role("member").input(createArchitectureInput).mutation(({ ctx, input }) => createArchitecture(ctx.svc, input)),
  importYaml: role("member").input(importYamlInput).mutation(({ ctx, input }) => importArchitectureYaml(ctx.svc, input)),
  update: role("member").input(updateArchitectureInput).mutation(({ ctx, input }) => updateArchitecture(ctx.svc, input)),
  delete: role("member").input(architectureByIdInput).mutation(({ ctx, input }) => deleteArchitecture(ctx.svc, input.id)),
});
