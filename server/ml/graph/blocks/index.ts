// Registers the built-in blocks.
import "./ultralytics";
import "./classic";

export { blockTypes, findBlockType, innerNodeId, registerBlockType, type BlockExpansion, type BlockTypeDef, type InnerNode } from "./registry";
