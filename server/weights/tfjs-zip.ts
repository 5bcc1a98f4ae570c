import path from "node:path";
import { UnreadableWeightsError } from "@/server/ml/io/errors";
import { isRelativeInside, openZipArchive, TFJS_ZIP_LIMITS } from "@/server/ml/io/zip-archive";

/**
 * What a zipped TF.js model folder (`model.json` + weight shards) declares. Only the entry list and
 * model.json are read (within TFJS_ZIP_LIMITS); the archive is stored as uploaded and never extracted here.
 */
export interface TfjsModelInfo {
  /** "layers-model" or "graph-model". */
  format: string | null;
  generatedBy: string | null;
  convertedBy: string | null;
  /** The first input's shape with the batch dim ("?" when free). */
  inputShape: (number | string)[] | null;
  weightFiles: number;
  weightTensors: number;
}

const MAX_MODEL_JSON = 64 * 1024 * 1024;

type Json = Record<string, unknown>;
const isRecord = (value: unknown): value is Json => typeof value === "object" && value !== null && !Array.isArray(value);

/** A layers model's first InputLayer `batch_input_shape` (or the first layer's), nulls as "?". */
function layersInputShape(topology: Json): (number | string)[] | null {
  const config = isRecord(topology.model_config) ? topology.model_config.config : topology.config;
  const layers = isRecord(config) && Array.isArray(config.layers) ? config.layers : [];
  for (const layer of layers) {
    const shape = isRecord(layer) && isRecord(layer.config) ? (layer.config.batch_input_shape ?? layer.config.batchInputShape) : null;
    if (Array.isArray(shape)) return shape.map((d) => (typeof d === "number" ? d : "?"));
  }
  return null;
}

export async function readTfjsZip(file: string): Promise<TfjsModelInfo> {
  const zip = await openZipArchive(file, TFJS_ZIP_LIMITS);
  try {
    const { entries } = zip;
    const manifests = [...entries.keys()].filter((name) => path.posix.basename(name) === "model.json" && !name.startsWith("__MACOSX/"));
    if (manifests.length !== 1) throw new UnreadableWeightsError(manifests.length === 0 ? "not a TF.js model: the archive has no model.json" : "the archive holds several model.json files");
    const entry = entries.get(manifests[0])!;
    if (entry.uncompressedSize > MAX_MODEL_JSON) throw new UnreadableWeightsError("model.json is larger than 64 MB");
    let model: unknown;
    try {
      model = JSON.parse(Buffer.from(await zip.read(entry)).toString("utf8"));
    } catch (error) {
      if (error instanceof UnreadableWeightsError) throw error;
      throw new UnreadableWeightsError(`model.json is not JSON: ${(error as Error).message}`);
    }
    if (!isRecord(model) || !isRecord(model.modelTopology) || !Array.isArray(model.weightsManifest)) {
      throw new UnreadableWeightsError("model.json has no modelTopology and weightsManifest");
    }
    const folder = path.posix.dirname(manifests[0]);
    let weightFiles = 0;
    let weightTensors = 0;
    for (const group of model.weightsManifest) {
      const paths = isRecord(group) && Array.isArray(group.paths) ? group.paths : [];
      for (const shard of paths) {
        if (!isRelativeInside(shard)) throw new UnreadableWeightsError(`model.json lists the weights file ${JSON.stringify(shard)}, which is not a file beside it`);
        const name = path.posix.join(folder === "." ? "" : folder, shard);
        if (!entries.has(name)) throw new UnreadableWeightsError(`model.json lists the weights file ${String(shard)}, which the archive lacks`);
        weightFiles++;
      }
      weightTensors += isRecord(group) && Array.isArray(group.weights) ? group.weights.length : 0;
    }
    const text = (value: unknown) => (typeof value === "string" ? value : null);
    return {
      format: text(model.format),
      generatedBy: text(model.generatedBy),
      convertedBy: text(model.convertedBy),
      inputShape: layersInputShape(model.modelTopology),
      weightFiles,
      weightTensors,
    };
  } finally {
    zip.close();
  }
}
