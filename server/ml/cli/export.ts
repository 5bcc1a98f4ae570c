// `export`: a checkpoint, run folder or .pt to ONNX (detection with Ultralytics' decode appended) or a
// TF.js layers folder, written beside the weights unless output= says where.
import { mkdir } from "node:fs/promises";
import path from "node:path";
import * as tf from "@tensorflow/tfjs";
import { initBackend } from "../backend/index";
import { exportDetectionOnnx } from "../detect/onnx-decode";
import { exportOnnx } from "../export/onnx";
import { writeFileAtomic } from "../train/checkpoint";
import { CliError, numberOr, requireArg, type CliCommand } from "./args";
import { loadModel, resolveModel } from "./model-source";

export const exportFormats = ["onnx", "tfjs"] as const;

/** TF.js layers format (model.json + weights.bin), the layout tf.loadLayersModel reads. */
async function saveTfjsModel(model: tf.LayersModel, dir: string, metadata: Record<string, unknown>): Promise<void> {
  await mkdir(dir, { recursive: true });
  await model.save(
    tf.io.withSaveHandler(async (artifacts) => {
      const weights = artifacts.weightData ? new Uint8Array(tf.io.CompositeArrayBuffer.join(artifacts.weightData)) : new Uint8Array();
      const modelJson = {
        format: "layers-model",
        generatedBy: `TensorFlow.js tfjs-layers v${tf.version.tfjs}`,
        convertedBy: null,
        modelTopology: artifacts.modelTopology,
        weightsManifest: [{ paths: ["weights.bin"], weights: artifacts.weightSpecs ?? [] }],
        userDefinedMetadata: metadata,
      };
      await writeFileAtomic(path.join(dir, "weights.bin"), [weights]);
      await writeFileAtomic(path.join(dir, "model.json"), [Buffer.from(JSON.stringify(modelJson))]);
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: "JSON", weightDataBytes: weights.byteLength } };
    }),
  );
}

export const exportCommand: CliCommand = {
  name: "export",
  keys: {
    model: "text",
    format: "text",
    opset: { integer: true, min: 1 },
    half: "flag",
    int8: "flag",
    dynamic: "flag",
    output: "text",
    imgsz: { integer: true, min: 32 },
    batch: { integer: true, min: 1 },
  },
  async run(args, out) {
    const format = String(args.format ?? "onnx");
    if (!(exportFormats as readonly string[]).includes(format)) {
      throw new CliError(`export format "${format}" is not supported; supported formats: ${exportFormats.join(", ")}`);
    }
    await initBackend("cpu");
    const source = await resolveModel(requireArg(args, "model", "export"), "export");
    const loaded = await loadModel(source, "export", numberOr(args, "imgsz"));
    const { model, graph, task, classNames, imgsz } = loaded;
    try {
      let output: string;
      if (format === "onnx") {
        if (!graph) throw new CliError(`${loaded.base} has no model graph; ONNX export needs a model built from a graph`);
        const dynamicBatch = args.dynamic === undefined ? args.batch === undefined : Boolean(args.dynamic);
        const options = { opset: numberOr(args, "opset"), dynamicBatch, batch: numberOr(args, "batch"), half: Boolean(args.half ?? false), int8: Boolean(args.int8 ?? false), classNames, imgsz };
        // Detection models get the decode (DFL, anchors, sigmoid) appended, like Ultralytics' export.
        const bytes = task === "detect" ? await exportDetectionOnnx(model, graph, options) : await exportOnnx(model, graph, { ...options, task });
        output = String(args.output ?? `${loaded.base}.onnx`);
        await writeFileAtomic(output, [bytes]);
      } else {
        output = String(args.output ?? `${loaded.base}_web_model`);
        await saveTfjsModel(model, output, { names: classNames, task, imgsz });
      }
      out.print(out.json ? JSON.stringify({ type: "export", format, output }) : `exported ${format}: ${output}`);
    } finally {
      model.dispose();
    }
  },
};
