import { mkdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import * as tf from "@tensorflow/tfjs";
// Registers the custom layers (ChannelSlice) so saved models deserialise.
import "../graph";

const MODEL_FILE = "model.json";
const WEIGHTS_FILE = "weights.bin";

/**
 * Writes the TF.js layers format (model.json + weights.bin) into `dir` with plain fs, so it
 * works without tfjs-node's file:// handler. Returns the path of model.json.
 */
export async function exportTfjsLayers(model: tf.LayersModel, dir: string, opts: { includeOptimizer?: boolean } = {}): Promise<string> {
  await mkdir(dir, { recursive: true });
  const modelPath = path.join(dir, MODEL_FILE);
  await model.save(
    tf.io.withSaveHandler(async (artifacts) => {
      const weights = new Uint8Array(tf.io.CompositeArrayBuffer.join(artifacts.weightData ?? new ArrayBuffer(0)));
      const modelJson: tf.io.ModelJSON = {
        modelTopology: artifacts.modelTopology as object,
        format: artifacts.format,
        generatedBy: artifacts.generatedBy,
        convertedBy: artifacts.convertedBy,
        trainingConfig: artifacts.trainingConfig,
        weightsManifest: [{ paths: [`./${WEIGHTS_FILE}`], weights: artifacts.weightSpecs ?? [] }],
      };
      await writeFile(path.join(dir, WEIGHTS_FILE), weights);
      await writeFile(modelPath, JSON.stringify(modelJson));
      return { modelArtifactsInfo: tf.io.getModelArtifactsInfoForJSON(artifacts) };
    }),
    { includeOptimizer: opts.includeOptimizer ?? false },
  );
  return modelPath;
}

/** Loads a model written by exportTfjsLayers (a directory or its model.json). */
export async function loadTfjsLayers(dirOrModelJson: string): Promise<tf.LayersModel> {
  const modelPath = dirOrModelJson.endsWith(".json") ? dirOrModelJson : path.join(dirOrModelJson, MODEL_FILE);
  const dir = path.dirname(modelPath);
  let modelJson: tf.io.ModelJSON;
  try {
    modelJson = JSON.parse(await readFile(modelPath, "utf8")) as tf.io.ModelJSON;
  } catch (error) {
    throw new Error(`cannot read TF.js model ${modelPath}: ${error instanceof Error ? error.message : String(error)}`);
  }
  const parts = await Promise.all(
    modelJson.weightsManifest.flatMap((group) => group.paths).map((p) => readFile(path.join(dir, p))),
  );
  const weightData = tf.io.CompositeArrayBuffer.join(parts.map((b) => b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength)));
  const artifacts = tf.io.getModelArtifactsForJSONSync(modelJson, modelJson.weightsManifest.flatMap((g) => g.weights), weightData);
  return tf.loadLayersModel(tf.io.fromMemory(artifacts));
}
