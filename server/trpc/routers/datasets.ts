import {
  deleteDataset,
  dismissImportFailure,
  getDataset,
  importFromPath,
  importState,
  listDatasets,
  previewDataset,
  recentImportFailures,
  resplitDataset,
  updateDataset,
} from "@/server/datasets/service";
import { datasetByIdInput, importFailureByIdInput, importFromPathInput, listDatasetsInput, previewInput, resplitInput, updateDatasetInput } from "@/server/datasets/schemas";
import { env } from "@/server/env";
import { authed, role, router } from "../init";

/** Uploads go through POST /api/datasets/upload (multipart, streamed); everything else is here. */
export const datasetsRouter = router({
  list: authed.input(listDatasetsInput).query(async ({ ctx, input }) => (await listDatasets(ctx.svc, input)).items),
  byId: authed.input(datasetByIdInput).query(({ ctx, input }) => getDataset(ctx.svc, input.id)),
  importState: authed.input(datasetByIdInput).query(({ ctx, input }) => importState(ctx.svc, input.id)),
  failures: authed.input(listDatasetsInput).query(({ ctx, input }) => recentImportFailures(ctx.svc, input.projectId)),
  dismissFailure: role("member").input(importFailureByIdInput).mutation(({ ctx, input }) => dismissImportFailure(ctx.svc, input.id)),
  importRoots: authed.query(() => env().importRoots),
  importFromPath: role("member").input(importFromPathInput).mutation(({ ctx, input }) => importFromPath(ctx.svc, input)),
  update: role("member").input(updateDatasetInput).mutation(({ ctx, input }) => updateDataset(ctx.svc, input)),
  delete: role("member").input(datasetByIdInput).mutation(({ ctx, input }) => deleteDataset(ctx.svc, input.id)),
  preview: authed.input(previewInput).query(({ ctx, input }) => previewDataset(ctx.svc, input)),
  resplit: role("member").input(resplitInput).mutation(({ ctx, input }) => resplitDataset(ctx.svc, input)),
});
