import { readJson, withCaller, type RouteContext } from "@/server/http/handler";
import { getProjectByName } from "@/server/projects/service";
import { fleetResources, optimalConfig, performanceSuggestions, type MeasureDeps } from "@/server/system/advisor";
import { trainingModuleError } from "./mapper";
import { parseOptimalConfigBody, parsePerformanceSuggestionsBody, trainingModuleOptimalConfig, trainingModuleSuggestions, trainingModuleSystemResources } from "./system-mapper";

/** Seed 000 §4.1 `GET /training/system_resources/<project>`: the live training hosts' newest samples. */
export async function systemResources(req: Request, route: RouteContext<"project_name">): Promise<Response> {
  const params = await route.params;
  return withCaller(
    req,
    trainingModuleError,
    async (ctx) => {
      await getProjectByName(ctx, params.project_name);
      return Response.json({ success: true, data: trainingModuleSystemResources(await fleetResources(ctx)) });
    },
    { db: route.db },
  );
}

/** Seed 000 §5.1 `POST /training/performance_suggestions/<project>`. */
export async function suggestPerformance(req: Request, route: RouteContext<"project_name">): Promise<Response> {
  const params = await route.params;
  return withCaller(
    req,
    trainingModuleError,
    async (ctx) => {
      const project = await getProjectByName(ctx, params.project_name);
      const { suggestions, resources } = await performanceSuggestions(ctx, project, parsePerformanceSuggestionsBody(await readJson(req)));
      return Response.json({ success: true, data: trainingModuleSuggestions(suggestions, resources) });
    },
    { db: route.db },
  );
}

/** Seed 000 §5.2 `POST /training/optimal_config/<project>`; may wait for AutoBatch to measure the model on a worker. */
export async function suggestOptimalConfig(req: Request, route: RouteContext<"project_name"> & MeasureDeps): Promise<Response> {
  const params = await route.params;
  return withCaller(
    req,
    trainingModuleError,
    async (ctx) => {
      const project = await getProjectByName(ctx, params.project_name);
      const config = await optimalConfig(ctx, project, parseOptimalConfigBody(await readJson(req)), { boss: route.boss, waitMs: route.waitMs });
      return Response.json({ success: true, data: trainingModuleOptimalConfig(config) });
    },
    { db: route.db },
  );
}
