// Public surface of the detection engine.
export { bboxIou, iouAt, xywhToXyxy, xyxyToXywh, type IouKind, type Xywh, type Xyxy } from "./boxes";
export { decodeRawOutput, dflExpectation, makeAnchors, DEFAULT_STRIDES, REG_MAX, type AnchorGrid } from "./dfl";
export { nonMaxSuppression, type Detection, type NmsOptions } from "./nms";
export { assignTargets, type AssignerInput, type AssignerOptions, type Assignment } from "./assigner";
export { detectionLoss, ciouTensor, dflDistances, DEFAULT_GAINS, type DetectionLossOptions, type DetectionLossParts, type LossGains } from "./loss";
export { detectHeadSchema, detectBranchWidths, type DetectHeadData } from "./head";
export { yoloDecodeHead, exportDetectionOnnx, type DecodeHeadOptions } from "./onnx-decode";
export { detectionsFromRaw, predictDetections, toSourcePixels } from "./predict";
export {
  buildDetectModel,
  createDetectAdapter,
  detectionFitness,
  evaluateDetector,
  DEFAULT_DETECT_AUGMENT,
  type DetectAdapterOptions,
  type DetectEvaluation,
} from "./adapter";
