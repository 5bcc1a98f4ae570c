export { exportOnnx, DEFAULT_OPSET, type OnnxExportOptions } from "./onnx";
export { OnnxGraph, onnxFloat, float32ToFloat16Bits, SUPPORTED_OPSETS, type OnnxAttribute, type WeightPrecision } from "./onnx-graph";
export { decodeModel, TensorDataType } from "./onnx-proto";
export { exportTfjsLayers, loadTfjsLayers } from "./tfjs";
