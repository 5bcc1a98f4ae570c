export { createRng, shuffleInPlace, type Rng } from "./rng";
export type { Box, Affine } from "./geometry";
export { warpAffine, transformBoxes, invertAffine, composeAffine } from "./geometry";
export { augmentOpSchema, augmentOpSchemas, augmentOpNames, runOp, type AugmentOp, type AugmentOpInput, type AugmentOpName } from "./ops";
export {
  augmentPipelineSchema,
  validatePipeline,
  parsePipeline,
  applyPipeline,
  describeOps,
  formatPipelineIssue,
  AugmentPipelineError,
  type AugmentPipeline,
  type AugmentPipelineInput,
  type PipelineIssue,
  type PipelineValidation,
  type OpDescription,
} from "./pipeline";
