import { describe, expect, it } from "vitest";
import { createLogParser, parseLogLine } from "./log-parser";

describe("log parser: seed 001 formats", () => {
  it("reads the epoch from an epoch start line", () => {
    expect(parseLogLine("Epoch [3/10] started")).toEqual({ epoch: 3, total_epochs: 10 });
  });

  it("reads training and validation loss and accuracy, accuracy in percent as printed", () => {
    expect(parseLogLine("Train Loss: 0.5234, Train Accuracy: 82.45%")).toEqual({ train_loss: 0.5234, train_acc: 82.45 });
    expect(parseLogLine("Validation Loss: 0.6123, Validation Accuracy: 78.92%")).toEqual({ val_loss: 0.6123, val_acc: 78.92 });
  });

  it("reads F1, top-k and the best accuracy under the seed's metric names", () => {
    expect(parseLogLine("Validation macro_F1: 0.7654")).toEqual({ macro_f1: 0.7654 });
    expect(parseLogLine("Validation micro_F1: 0.7892")).toEqual({ micro_f1: 0.7892 });
    expect(parseLogLine("Validation Top-k Accuracy: {'top1': 78.92, 'top3': 92.34, 'top5': 96.78}")).toEqual({ top1_acc: 78.92, top3_acc: 92.34, top5_acc: 96.78 });
    expect(parseLogLine("New best model saved with Accuracy: 79.12%")).toEqual({ best_acc: 79.12 });
  });

  it("reads the engine's detection lines", () => {
    expect(parseLogLine("Train box_loss: 1.2000, cls_loss: 2.5000, dfl_loss: 1.1000")).toEqual({ train_box_loss: 1.2, train_cls_loss: 2.5, train_dfl_loss: 1.1 });
    expect(parseLogLine("Validation P: 0.6000, R: 0.5000, mAP50: 0.4000, mAP50-95: 0.2500")).toEqual({ precision: 0.6, recall: 0.5, mAP50: 0.4, mAP50_95: 0.25 });
  });

  it("returns null for lines without metrics", () => {
    expect(parseLogLine("Device: wasm backend")).toBeNull();
    expect(parseLogLine("")).toBeNull();
  });
});

describe("log parser: Ultralytics console tables", () => {
  it("maps a detection epoch row and its validation row through the header lines before them", () => {
    const parse = createLogParser();
    expect(parse("      Epoch    GPU_mem   box_loss   cls_loss   dfl_loss  Instances       Size")).toBeNull();
    expect(parse("       3/10      2.1G      1.234      2.345      1.456         12        640: 100%|██████████| 8/8 [00:02<00:00,  3.2it/s]")).toEqual({
      epoch: 3,
      total_epochs: 10,
      train_box_loss: 1.234,
      train_cls_loss: 2.345,
      train_dfl_loss: 1.456,
    });
    expect(parse("                 Class     Images  Instances      Box(P          R      mAP50  mAP50-95): 100%|██████████| 4/4 [00:01<00:00]")).toBeNull();
    expect(parse("                   all        128        929      0.645      0.553      0.617      0.457")).toEqual({ precision: 0.645, recall: 0.553, mAP50: 0.617, mAP50_95: 0.457 });
  });

  it("maps a classification epoch row and its top-k row", () => {
    const parse = createLogParser();
    parse("      Epoch    GPU_mem       loss  Instances       Size");
    expect(parse("        1/5         0G      1.099         16        224: 100%|██████████| 3/3")).toEqual({ epoch: 1, total_epochs: 5, train_loss: 1.099 });
    parse("               classes   top1_acc   top5_acc: 100%|██████████| 1/1");
    expect(parse("                   all      0.517          1")).toEqual({ top1_acc: 0.517, top5_acc: 1 });
  });

  it("ignores an epoch-like row before any header", () => {
    expect(createLogParser()("  1/10  2.1G  1.0")).toBeNull();
  });
});
