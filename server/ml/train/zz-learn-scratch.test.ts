import { it } from "vitest";
import { mkdtemp } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { initBackend } from "/work/main/server/ml/backend/index";
import { makeShapesImageFolder } from "/work/main/server/ml/data/testing/shapes";
import { train } from "/work/main/server/ml/train/loop";

function referenceCnn(classes: number) {
  const chain = [
    { id: "input", type: "Input" },
    { id: "conv1", type: "Conv2d", data: { filters: 16, kernel_size: 3, activation: "relu" } },
    { id: "pool1", type: "MaxPool", data: { kernel_size: 2 } },
    { id: "conv2", type: "Conv2d", data: { filters: 32, kernel_size: 3, activation: "relu" } },
    { id: "pool2", type: "MaxPool", data: { kernel_size: 2 } },
    { id: "conv3", type: "Conv2d", data: { filters: 64, kernel_size: 3, activation: "relu" } },
    { id: "gap", type: "GlobalAvgPool" },
    { id: "head", type: "Dense", data: { units: classes } },
  ];
  return { nodes: chain, edges: chain.slice(1).map((node, i) => ({ source: chain[i].id, target: node.id })) };
}
it("learn", async () => {
  console.log(await initBackend((process.env.DEVICE ?? "auto") as "auto"));
  const root = await mkdtemp(path.join(os.tmpdir(), "learn-"));
  const size = Number(process.env.SIZE ?? 32);
  await makeShapesImageFolder(path.join(root, "d"), { classes: 3, perClass: 60, size, seed: 3 });
  const t = Date.now();
  await train({ data: path.join(root, "d"), model: referenceCnn(3), imgsz: size, batch: Number(process.env.BATCH ?? 16), epochs: Number(process.env.EPOCHS ?? 15), optimizer: (process.env.OPT ?? "Adam") as "Adam", lr0: Number(process.env.LR ?? 0.005), device: process.env.DEVICE ?? "auto", warmup_epochs: 0, runsDir: path.join(root, "runs"), weight_decay: 0 }, {
    onEvent: (e) => { if (e.type === "epoch_end") console.log(e.epoch, e.metrics.train_loss.toFixed(3), e.metrics.train_acc.toFixed(3), e.metrics.val_loss.toFixed(3), e.metrics.val_acc.toFixed(3), e.seconds.toFixed(2), Math.round(e.metrics.images_per_sec)); },
  });
  console.log("total", Date.now() - t);
});
