export { deleteWeights, assertWeightsDeletable } from "./delete";
export { downloadResponse, weightsDownload } from "./download";
export { importStagedWeights, importWeightsFromPath, type ImportMetadata, type WeightsLineage } from "./import";
export { inspectWeightsFile, type WeightsInspection } from "./inspect";
export { getWeights, listWeights, type WeightsRow, type WeightsView } from "./queries";
export { saveExperimentWeights } from "./save-experiment";
export { updateWeights } from "./update";
export { importUploadedWeights, receiveWeightsUpload } from "./upload";
