// `predict`: every image of source= through a checkpoint, run folder, .pt or detection .onnx. Detection
// saves annotated copies, classification Ultralytics' save_txt labels (`0.93 cat` per line), into
// runs/<task>/predict, predict2 …
import { mkdir, readdir, stat } from "node:fs/promises";
import path from "node:path";
import * as tf from "@tensorflow/tfjs";
import { initBackend, parseDevice } from "../backend/index";
import { decodeImage, decodeImageResized } from "../data/image";
import { isImageFile } from "../data/imagefolder";
import { annotatedFileName, saveAnnotatedImage } from "../detect/annotate";
import { onnxDetector, tfjsDetector, type Detector } from "../detect/predictor";
import { writeFileAtomic } from "../train/checkpoint";
import { outputsProbabilities } from "../train/classify";
import { CliError, numberOr, requireArg, runLocation, type CliArgs, type CliCommand, type CliOutput } from "./args";
import { createNumberedFolder } from "./folders";
import { loadModel, resolveModel, type LoadedModel } from "./model-source";

async function listImages(source: string): Promise<string[]> {
  const info = await stat(source).catch(() => null);
  if (!info) throw new CliError(`source not found: ${source}`);
  if (info.isFile()) return [source];
  const entries = await readdir(source, { withFileTypes: true, recursive: true });
  const files = entries.filter((e) => e.isFile() && isImageFile(e.name)).map((e) => path.join(e.parentPath, e.name)).sort();
  if (files.length === 0) throw new CliError(`no images in ${source}`);
  return files;
}

function predictFolder(args: CliArgs, task: "classify" | "detect", trainedIn: unknown): Promise<string> {
  const { runsDir, project } = runLocation(args, task, typeof trainedIn === "string" ? trainedIn : undefined);
  return createNumberedFolder(runsDir, project, String(args.name ?? "predict"));
}

/** Top classes of each image; its labels/<stem>.txt lists them as Ultralytics' save_txt does. */
async function classify(loaded: LoadedModel, args: CliArgs, out: CliOutput): Promise<void> {
  const { model, classNames, imgsz } = loaded;
  const sources = await listImages(requireArg(args, "source", "predict"));
  const dir = await predictFolder(args, "classify", loaded.config.runsDir);
  const top = Math.min(Number(args.top ?? 5), classNames.length);
  const probabilities = outputsProbabilities(model);
  for (const file of sources) {
    const img = await decodeImageResized(file, imgsz, imgsz);
    const scores = tf.tidy(() => {
      const x = tf.tensor4d(Float32Array.from(img.data, (v) => v / 255), [1, imgsz, imgsz, 3]);
      const output = model.predict(x) as tf.Tensor;
      return probabilities ? output : tf.softmax(output);
    });
    const probs = Array.from(await scores.data());
    scores.dispose();
    const ranked = probs.map((p, i) => ({ class: classNames[i], probability: p })).sort((a, b) => b.probability - a.probability).slice(0, top);
    const saved = path.join(dir, "labels", `${path.parse(file).name}.txt`);
    await mkdir(path.dirname(saved), { recursive: true });
    await writeFileAtomic(saved, [Buffer.from(ranked.map((r) => `${r.probability.toFixed(2)} ${r.class}\n`).join(""))]);
    out.print(out.json ? JSON.stringify({ type: "prediction", source: file, saved, top: ranked }) : `${file}: ${ranked.map((r) => `${r.class} ${r.probability.toFixed(3)}`).join(", ")}`);
  }
  out.note(`Results saved to ${dir}`);
}

/** Detects objects in every source image, saving an annotated copy of each into a new predict folder. */
async function detect(detector: Detector, args: CliArgs, out: CliOutput, trainedIn?: unknown): Promise<void> {
  const sources = await listImages(requireArg(args, "source", "predict"));
  const dir = await predictFolder(args, "detect", trainedIn);
  const nms = { conf: numberOr(args, "conf"), iou: numberOr(args, "iou"), maxDet: numberOr(args, "max_det"), agnostic: Boolean(args.agnostic ?? false) };
  const names = detector.classNames;
  for (const [i, file] of sources.entries()) {
    const started = performance.now();
    const img = await decodeImage(file);
    const detections = await detector.detect(img, nms);
    const ms = performance.now() - started;
    const saved = annotatedFileName(dir, file);
    await saveAnnotatedImage(img, detections, names, saved);
    const rows = detections.map((d) => ({ class: names[d.cls], cls: d.cls, confidence: d.score, box: d.box.map((v) => Math.round(v * 10) / 10) }));
    if (out.json) {
      out.print(JSON.stringify({ type: "prediction", source: file, saved, width: img.width, height: img.height, detections: rows }));
      continue;
    }
    const counts = new Map<string, number>();
    for (const row of rows) counts.set(row.class, (counts.get(row.class) ?? 0) + 1);
    const summary = [...counts].map(([name, count]) => `${count} ${name}`).join(", ") || "(no detections)";
    out.print(`image ${i + 1}/${sources.length} ${file}: ${img.width}x${img.height} ${summary}, ${ms.toFixed(1)}ms`);
    for (const row of rows) out.print(`  ${row.class} ${row.confidence.toFixed(2)} [${row.box.join(", ")}]`);
  }
  out.print(out.json ? JSON.stringify({ type: "predict", dir, images: sources.length }) : `Results saved to ${dir}`);
}

export const predictCommand: CliCommand = {
  name: "predict",
  keys: {
    model: "text",
    source: "text",
    device: "text",
    top: { integer: true, min: 1 },
    conf: "number",
    iou: "number",
    max_det: { integer: true, min: 1 },
    agnostic: "flag",
    runsDir: "text",
    project: "text",
    name: "text",
    imgsz: { integer: true, min: 32 },
  },
  async run(args, out) {
    const source = await resolveModel(requireArg(args, "model", "predict"), "predict");
    if (source.kind === "onnx") return withDetector(await onnxDetector(source.file), args, out);
    await initBackend(parseDevice(String(args.device ?? "auto")));
    const loaded = await loadModel(source, "predict", numberOr(args, "imgsz"));
    if (loaded.task === "detect") return withDetector(tfjsDetector(loaded.model, loaded.classNames, loaded.imgsz), args, out, loaded.config.runsDir);
    try {
      await classify(loaded, args, out);
    } finally {
      loaded.model.dispose();
    }
  },
};

async function withDetector(detector: Detector, args: CliArgs, out: CliOutput, trainedIn?: unknown): Promise<void> {
  try {
    await detect(detector, args, out, trainedIn);
  } finally {
    await detector.release();
  }
}
