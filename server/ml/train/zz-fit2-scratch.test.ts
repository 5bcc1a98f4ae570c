import { it } from "vitest";
import { mkdtemp } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { initBackend } from "/work/main/server/ml/backend/index";
import { makeShapesImageFolder } from "/work/main/server/ml/data/testing/shapes";
import { train } from "/work/main/server/ml/train/loop";

function cnn(classes: number, bn: boolean) {
  const chain: { id: string; type: string; data?: Record<string, unknown> }[] = [{ id: "input", type: "Input" }];
  for (const [i, f] of [16, 32, 64].entries()) {
    chain.push({ id: `conv${i + 1}`, type: "Conv2d", data: { filters: f, kernel_size: 3, activation: bn ? "linear" : "relu", bias: !bn } });
    if (bn) chain.push({ id: `bn${i + 1}`, type: "BatchNorm", data: { activation: "relu" } });
    if (i < 2) chain.push({ id: `pool${i + 1}`, type: "MaxPool", data: { kernel_size: 2 } });
  }
  chain.push({ id: "gap", type: "GlobalAvgPool" }, { id: "head", type: "Dense", data: { units: classes } });
  return { nodes: chain, edges: chain.slice(1).map((node, i) => ({ source: chain[i].id, target: node.id })) };
}
it("learn", async () => {
  await initBackend("auto");
  const root = await mkdtemp(path.join(os.tmpdir(), "learn-"));
  const size = Number(process.env.SIZE ?? 32);
  await makeShapesImageFolder(path.join(root, "d"), { classes: 3, perClass: Number(process.env.PER ?? 60), size, seed: 3 });
  const t = Date.now();
  const out: string[] = [];
  await train({ data: path.join(root, "d"), model: cnn(3, process.env.BN === "1"), imgsz: size, batch: Number(process.env.BATCH ?? 16), epochs: Number(process.env.EPOCHS ?? 15), optimizer: (process.env.OPT ?? "Adam") as "Adam", lr0: Number(process.env.LR ?? 0.005), warmup_epochs: 0, runsDir: path.join(root, "runs") }, {
    onEvent: (e) => { if (e.type === "epoch_end") out.push(`${e.epoch} ${e.metrics.train_loss.toFixed(3)} ${e.metrics.val_acc.toFixed(2)} ${e.seconds.toFixed(2)}`); if (e.type === "log" && e.level !== "info") out.push(e.message); },
  });
  console.log(out.join("\n") + "\ntotal " + (Date.now() - t));
});
