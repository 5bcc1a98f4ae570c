import { readFile } from "node:fs/promises";
import * as ort from "onnxruntime-node";
import { decodeModel } from "../export/onnx-proto";

export interface OnnxOutput {
  data: Float32Array;
  dims: number[];
}

export interface OnnxModel {
  inputName: string;
  /** Declared input shape; symbolic axes (a dynamic batch) are -1. */
  inputShape: number[];
  outputNames: string[];
  /** The file's metadata_props (names, task, imgsz, …). */
  metadata: Record<string, string>;
  run(input: Float32Array, dims: number[]): Promise<OnnxOutput[]>;
  release(): Promise<void>;
}

export type OnnxDevice = "cpu" | "cuda";

async function createSession(bytes: Uint8Array, device: OnnxDevice, source: string): Promise<ort.InferenceSession> {
  try {
    return await ort.InferenceSession.create(bytes, { executionProviders: [device] });
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    if (device === "cuda") {
      throw new Error(`ONNX Runtime: the CUDA execution provider is unavailable here (${reason}); use device "cpu"`);
    }
    throw new Error(`ONNX Runtime cannot load ${source}: ${reason}`);
  }
}

/** Opens an ONNX model for inference, on the CPU unless `device: "cuda"` is asked for. */
export async function loadOnnxSession(pathOrBytes: string | Uint8Array, opts: { device?: OnnxDevice } = {}): Promise<OnnxModel> {
  const source = typeof pathOrBytes === "string" ? pathOrBytes : "the given model bytes";
  let bytes: Uint8Array;
  try {
    bytes = typeof pathOrBytes === "string" ? await readFile(pathOrBytes) : pathOrBytes;
  } catch (error) {
    throw new Error(`ONNX Runtime cannot read ${source}: ${error instanceof Error ? error.message : String(error)}`);
  }
  const session = await createSession(bytes, opts.device ?? "cpu", source);
  let metadata: Record<string, string>;
  try {
    metadata = Object.fromEntries(decodeModel(bytes).metadata_props.map(({ key, value }) => [key, value]));
  } catch (error) {
    await session.release();
    throw new Error(`cannot read the metadata of ${source}: ${error instanceof Error ? error.message : String(error)}`);
  }
  const inputName = session.inputNames[0];
  const inputMeta = session.inputMetadata[0];
  const inputShape = inputMeta?.isTensor ? inputMeta.shape.map((d) => (typeof d === "number" ? d : -1)) : [];
  return {
    inputName,
    inputShape,
    outputNames: [...session.outputNames],
    metadata,
    async run(input, dims) {
      const results = await session.run({ [inputName]: new ort.Tensor("float32", input, dims) });
      return session.outputNames.map((name) => {
        const tensor = results[name];
        if (tensor.type !== "float32") throw new Error(`ONNX output "${name}" is ${tensor.type}, expected float32`);
        return { data: tensor.data as Float32Array, dims: [...tensor.dims] };
      });
    },
    release: () => session.release(),
  };
}
