import { it } from "vitest";
import { mkdtemp } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import * as tf from "@tensorflow/tfjs";
import { initBackend } from "/work/main/server/ml/backend/index";
import { makeShapesImageFolder } from "/work/main/server/ml/data/testing/shapes";
import { readImageFolder } from "/work/main/server/ml/data/imagefolder";
import { createClassifyLoader } from "/work/main/server/ml/data/loader";
import { buildReferenceCnn } from "/work/main/server/ml/backend/reference-cnn";

async function load(items: any[], size: number) {
  const l = createClassifyLoader(items, { imgsz: size, batch: 1000, shuffle: false, seed: 0 });
  for await (const b of l.epoch(0)) return { x: tf.tensor4d(b.x, [b.size, size, size, 3]), y: tf.oneHot(tf.tensor1d(b.y, "int32"), 3).toFloat() };
  throw new Error();
}
it("fit", async () => {
  await initBackend((process.env.DEVICE ?? "auto") as "auto");
  const size = Number(process.env.SIZE ?? 32);
  const root = await mkdtemp(path.join(os.tmpdir(), "fit-"));
  await makeShapesImageFolder(path.join(root, "d"), { classes: 3, perClass: Number(process.env.PER ?? 60), size, seed: 3 });
  const idx = await readImageFolder(path.join(root, "d"));
  const tr = await load(idx.items.filter(i => i.split === "train"), size);
  const va = await load(idx.items.filter(i => i.split === "val"), size);
  const m = buildReferenceCnn({ imgsz: size, numClasses: 3, seed: 1 });
  const out = tf.layers.activation({ activation: "softmax" }).apply(m.outputs[0]) as tf.SymbolicTensor;
  const model = tf.model({ inputs: m.inputs, outputs: out });
  model.compile({ optimizer: tf.train.adam(Number(process.env.LR ?? 0.003)), loss: "categoricalCrossentropy", metrics: ["accuracy"] });
  const h = await model.fit(tr.x, tr.y, { epochs: Number(process.env.EPOCHS ?? 15), batchSize: 16, shuffle: true, validationData: [va.x, va.y] });
  console.log(JSON.stringify(h.history.val_acc), JSON.stringify(h.history.loss.map((v: any) => v.toFixed(3))));
});
