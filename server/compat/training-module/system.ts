import { readJson } from "@/server/http/handler";
import { fleetResources, optimalConfig, performanceSuggestions, type MeasureDeps } from "@/server/system/advisor";
import { projectRoute } from "./route";
import { parseOptimalConfigBody, parsePerformanceSuggestionsBody, trainingModuleOptimalConfig, trainingModuleSuggestions, trainingModuleSystemResources } from "./system-mapper";

/** Seed 000 §4.1 `GET /training/system_resources/<project>`: the live training hosts' newest samples. */
export const systemResources = projectRoute(async (ctx) => Response.json({ success: true, data: trainingModuleSystemResources(await fleetResources(ctx)) }));

/** Seed 000 §5.1 `POST /training/performance_suggestions/<project>`. */
export const suggestPerformance = projectRoute(async (ctx, project, req) => {
  const { suggestions, resources } = await performanceSuggestions(ctx, project, parsePerformanceSuggestionsBody(await readJson(req)));
  return Response.json({ success: true, data: trainingModuleSuggestions(suggestions, resources) });
});

/** Seed 000 §5.2 `POST /training/optimal_config/<project>`; may wait for AutoBatch to measure the model on a worker. */
export const suggestOptimalConfig = projectRoute<never, MeasureDeps>(async (ctx, project, req, _params, route) => {
  const config = await optimalConfig(ctx, project, parseOptimalConfigBody(await readJson(req)), { boss: route.boss, waitMs: route.waitMs });
  return Response.json({ success: true, data: trainingModuleOptimalConfig(config) });
});
