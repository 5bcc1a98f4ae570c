import { describeOps } from "@/server/ml/augment";
import {
  createAugmentation,
  deleteAugmentation,
  getAugmentation,
  listAugmentations,
  previewAugmentation,
  updateAugmentation,
} from "@/server/augmentations/service";
import {
  augmentationByIdInput,
  createAugmentationInput,
  listAugmentationsInput,
  previewAugmentationInput,
  updateAugmentationInput,
} from "@/server/augmentations/schemas";
import { authed, role, router } from "../init";

export const augmentationsRouter = router({
  ops: authed.query(() => describeOps()),
  list: authed.input(listAugmentationsInput).query(({ ctx, input }) => listAugmentations(ctx.svc, input)),
  byId: authed.input(augmentationByIdInput).query(({ ctx, input }) => getAugmentation(ctx.svc, input.id)),
  create: role("member").input(createAugmentationInput).mutation(({ ctx, input }) => createAugmentation(ctx.svc, input)),
  update: role("member").input(updateAugmentationInput).mutation(({ ctx, input }) => updateAugmentation(ctx.svc, input)),
  delete: role("member").input(augmentationByIdInput).mutation(({ ctx, input }) => deleteAugmentation(ctx.svc, input.id)),
  // A query, not a mutation: it changes nothing and the page re-renders it as the pipeline is edited.
  preview: authed.input(previewAugmentationInput).query(({ ctx, input }) => previewAugmentation(ctx.svc, input)),
});
