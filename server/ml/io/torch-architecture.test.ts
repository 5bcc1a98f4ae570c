import path from "node:path";
import { describe, expect, it } from "vitest";
import { torchArchitecture } from "./torch-architecture";
import { readTorchCheckpoint } from "./torch-zip";

const fixture = (name: string) => path.join(import.meta.dirname, "fixtures", name);

describe("torchArchitecture", () => {
  it("reads an Ultralytics checkpoint's network from its yaml: task, names, imgsz and a graph for any class count", async () => {
    const checkpoint = await readTorchCheckpoint(fixture("ultralytics_like.pt"));
    const arch = torchArchitecture(checkpoint, "ultralytics_like.pt");
    expect(arch).toMatchObject({ task: "detect", classNames: ["person", "bicycle", "traffic light"], imgsz: 320, zooModel: null });
    const detect = arch.graph(5).nodes.find((node) => node.type === "Detect");
    expect(detect?.data).toMatchObject({ nc: 5 });
  });

  it("refuses a state dict of another width than the zoo network its names say, naming both", async () => {
    const checkpoint = await readTorchCheckpoint(fixture("zoo_resnet_fp16.pt"));
    expect(() => torchArchitecture(checkpoint, "zoo_resnet_fp16.pt")).toThrow(/zoo_resnet_fp16.pt: a resnet18 state dict whose first conv has \d+ filters, not the published network's 64/);
  });

  it("says which networks it reads when the names fit none", async () => {
    const checkpoint = await readTorchCheckpoint(fixture("state_dict.pt"));
    expect(() => torchArchitecture(checkpoint, "state_dict.pt")).toThrow(/state_dict.pt: cannot tell which network these tensors are for .* YOLOv8 n–x, resnet18, resnet34 and mobilenet_v2/);
  });
});
