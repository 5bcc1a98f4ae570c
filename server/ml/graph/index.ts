// Detection heads are node types too; registering them here means any graph can use them.
import "../detect/head";
import "./blocks";
export { GraphError, modelGraphSchema, mergedEdges, type GraphEdge, type GraphNode, type ModelGraph } from "./schema";
export {
  registerLayerType,
  findLayerType,
  layerTypeNames,
  layerTypes,
  LayerError,
  type BuildContext,
  type LayerTypeDef,
  type LayerWeight,
  type OnnxNodeContext,
  type ParamCount,
  type Shape,
  LAYER_CATEGORIES,
  type LayerCategory,
} from "./registry";
export { blockTypes, findBlockType, registerBlockType, type BlockTypeDef, type InnerNode } from "./blocks";
export { analyzeGraph, planGraph, type GraphPlan, type GraphSummary, type NodeSummary, type PlannedNode } from "./analyze";
export { compileGraph, layerSeed } from "./compile";
export { ChannelSlice } from "./layers";
export * as layerHelpers from "./layers/common";
