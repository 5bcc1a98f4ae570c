export { UnreadableWeightsError } from "./errors";
export { readOnnxInfo, type OnnxInfo, type OnnxTask, type OnnxValueInfo } from "./onnx-info";
export { classNamesFrom, parsePythonLiteral, type PythonLiteral } from "./python-literal";
export { loadTorchTensors, torchNamerForZooModel, withTorchBatchNorms, type ModuleNamer, type TransferReport } from "./torch-to-graph";
export {
  openTorchArchive,
  readTorchCheckpoint,
  type BatchNormSettings,
  type CheckpointKind,
  type LoadedTensor,
  type TensorValues,
  type TorchArchive,
  type TorchCheckpoint,
  type UltralyticsTask,
} from "./torch-zip";
export { PickleGlobal, PickleObject, TorchStorage, TorchTensor, torchStorageFromPersistentId, unpickle, type TorchDtype, type UnpickleOptions } from "./unpickler";
