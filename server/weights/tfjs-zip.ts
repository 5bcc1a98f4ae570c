import path from "node:path";
import yauzl from "yauzl";
import { UnreadableWeightsError } from "@/server/ml/io/errors";

/**
 * What a zipped TF.js model folder (`model.json` + weight shards) declares. Only the entry list and
 * model.json are read; the archive is stored as uploaded and never extracted here.
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
const MAX_ENTRIES = 10_000;

function openZip(file: string): Promise<yauzl.ZipFile> {
  return new Promise((resolve, reject) =>
    yauzl.open(file, { lazyEntries: true, autoClose: false, validateEntrySizes: true }, (error, zip) =>
      error || !zip ? reject(new UnreadableWeightsError(`not a readable zip archive: ${error?.message ?? "unknown error"}`)) : resolve(zip),
    ),
  );
}

function listEntries(zip: yauzl.ZipFile): Promise<Map<string, yauzl.Entry>> {
  return new Promise((resolve, reject) => {
    const entries = new Map<string, yauzl.Entry>();
    zip.on("entry", (entry: yauzl.Entry) => {
      if (entries.size >= MAX_ENTRIES) return reject(new UnreadableWeightsError(`more than ${MAX_ENTRIES} files in the archive`));
      entries.set(entry.fileName, entry);
      zip.readEntry();
    });
    zip.on("end", () => resolve(entries));
    zip.on("error", (error: Error) => reject(new UnreadableWeightsError(`a damaged zip archive: ${error.message}`)));
    zip.readEntry();
  });
}

function readText(zip: yauzl.ZipFile, entry: yauzl.Entry): Promise<string> {
  return new Promise((resolve, reject) => {
    zip.openReadStream(entry, (error, stream) => {
      if (error || !stream) return reject(new UnreadableWeightsError(`cannot read ${entry.fileName}: ${error?.message}`));
      const chunks: Buffer[] = [];
      stream.on("data", (chunk: Buffer) => chunks.push(chunk));
      stream.on("error", (e: Error) => reject(new UnreadableWeightsError(`cannot read ${entry.fileName}: ${e.message}`)));
      stream.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    });
  });
}

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
  const zip = await openZip(file);
  try {
    const entries = await listEntries(zip);
    const manifests = [...entries.keys()].filter((name) => path.posix.basename(name) === "model.json" && !name.startsWith("__MACOSX/"));
    if (manifests.length !== 1) throw new UnreadableWeightsError(manifests.length === 0 ? "not a TF.js model: the archive has no model.json" : "the archive holds several model.json files");
    const entry = entries.get(manifests[0])!;
    if (entry.uncompressedSize > MAX_MODEL_JSON) throw new UnreadableWeightsError("model.json is larger than 64 MB");
    let model: unknown;
    try {
      model = JSON.parse(await readText(zip, entry));
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
        const name = path.posix.normalize(path.posix.join(folder === "." ? "" : folder, String(shard)));
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
