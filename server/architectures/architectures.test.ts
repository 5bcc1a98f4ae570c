import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { seedMemberAndOutsider } from "@/db/testing/fixtures";
import { createTestDb, type TestDb } from "@/db/testing/test-db";
import type { Ctx } from "@/server/context";
import { Invalid, NotFound } from "@/server/errors";
import { zooGraph } from "@/server/ml/zoo/index";
import { YOLOV8_YAML } from "@/server/ml/zoo/yolov8-yaml";
import { defaultProject } from "@/server/projects/service";
import { saveTrainingConfig, listTrainingConfigs, deleteTrainingConfig } from "@/server/training-configs/service";
import { exportYaml, inspectGraph } from "./editor";
import { analyzeArchitecture, createArchitecture, getArchitecture, getArchitectureVersion, importArchitectureYaml, listArchitectures, listArchitectureVersions, updateArchitecture } from "./service";

let tdb: TestDb;
let member: Ctx;
let outsider: Ctx;
let projectId: number;

const graph = () => zooGraph("reference-cnn", { imgsz: 32, numClasses: 3 }) as unknown as { nodes: Record<string, unknown>[]; edges: Record<string, unknown>[] };
/** Dense straight after a convolution: the compiler must name the Dense node. */
const brokenGraph = {
  nodes: [
    { id: "in", type: "Input" },
    { id: "c1", type: "Conv2d", data: { out: 8, k: 3 } },
    { id: "fc", type: "Linear", data: { out: 3 } },
  ],
  edges: [
    { source: "in", target: "c1" },
    { source: "c1", target: "fc" },
  ],
};

beforeAll(async () => {
  tdb = await createTestDb();
  ({ member, outsider } = await seedMemberAndOutsider(tdb.db));
  projectId = (await defaultProject(member)).id;
});
afterAll(async () => {
  await tdb?.close();
});

describe("architectures", () => {
  it("stores a graph with its per-node summary, hidden from other teams", async () => {
    const row = await createArchitecture(member, { projectId, name: "cnn", description: "", task: "classify", graph: graph() });
    const summary = row.summary as { totalParams: number; nodes: { id: string; outputShape: number[] }[] };
    expect(summary.totalParams).toBeGreaterThan(0);
    expect(summary.nodes.length).toBe(graph().nodes.length);
    await expect(getArchitecture(outsider, row.id)).rejects.toBeInstanceOf(NotFound);
  });

  it("refuses an invalid graph with an error naming the node", () => {
    expect(() => analyzeArchitecture({ graph: brokenGraph })).toThrow(Invalid);
    expect(() => analyzeArchitecture({ graph: brokenGraph })).toThrow(/fc/);
  });
});

describe("architecture versions", () => {
  it("numbers every saved graph with who saved it and its totals; a rename alone adds none", async () => {
    const row = await createArchitecture(member, { projectId, name: "versioned", description: "", task: "classify", graph: graph() });
    const wider = graph();
    (wider.nodes.find((n) => n.id === "conv3")!.data as Record<string, unknown>).filters = 96;
    await updateArchitecture(member, { id: row.id, graph: wider });
    await updateArchitecture(member, { id: row.id, name: "versioned (renamed)" });
    const versions = await listArchitectureVersions(member, row.id);
    expect(versions.map((v) => [v.version, v.name, v.author])).toEqual([
      [2, "versioned", "m"],
      [1, "versioned", "m"],
    ]);
    expect(versions[0].totalParams! - versions[1].totalParams!).toBe(analyzeArchitecture({ graph: wider }).totalParams - analyzeArchitecture({ graph: graph() }).totalParams);
    expect((await getArchitectureVersion(member, row.id, 1)).graph).toEqual(graph());
    await expect(getArchitectureVersion(member, row.id, 3)).rejects.toBeInstanceOf(NotFound);
    await expect(listArchitectureVersions(outsider, row.id)).rejects.toBeInstanceOf(NotFound);
  });

  it("lists when an experiment last used an architecture (null: never)", async () => {
    const listed = await listArchitectures(member);
    expect(listed.find((a) => a.name === "cnn")).toMatchObject({ lastUsedAt: null });
  });
});

describe("Ultralytics YAML as an architecture", () => {
  it("imports yolov8s.yaml (scale from the file name) as a detect architecture of blocks", async () => {
    const { architecture, scale } = await importArchitectureYaml(member, { projectId, name: "v8s", description: "", yaml: YOLOV8_YAML, fileName: "yolov8s.yaml" });
    expect([architecture.task, scale]).toEqual(["detect", "s"]);
    expect((architecture.graph.nodes as { type: string }[]).filter((n) => n.type === "C2f")).toHaveLength(8);
    expect(inspectGraph({ graph: architecture.graph as never, imgsz: 640 }).ultralytics).toMatchObject({ parameters: 11_166_560, gradients: 11_166_544 });
    expect(exportYaml({ graph: architecture.graph as never, name: "v8s" })).toContain("  - [-1, 1, SPPF, [512, 5]] # 9");
  });

  it("refuses a YAML error naming the row, in the yaml field", async () => {
    const error = await importArchitectureYaml(member, { projectId, name: "bad", description: "", yaml: YOLOV8_YAML.replace("SPPF", "SPPX") }).catch((e) => e);
    expect(error).toBeInstanceOf(Invalid);
    expect(error.fields.yaml[0]).toMatch(/^row 9 \(backbone\[9\]\) SPPX: unknown module/);
  });
});

describe("the editor's live inspection", () => {
  it("returns the compiler's error as data, naming the node and field", () => {
    const mismatch = { nodes: [...graph().nodes, { id: "sum", type: "Add" }], edges: [...graph().edges, { source: "conv1", target: "sum" }, { source: "conv2", target: "sum" }] };
    const { summary, error } = inspectGraph({ graph: mismatch, imgsz: 32 });
    expect(error).toMatchObject({ nodeId: "sum", message: expect.stringMatching(/node "sum" \(Add\)/) });
    // Shapes before the failing node still show.
    expect(summary!.nodes.map((n) => n.id)).toEqual(graph().nodes.map((n) => n.id as string));
    expect(inspectGraph({ graph: graph(), imgsz: 32 }).summary!.nodes.find((n) => n.id === "conv3")!.outputShape).toEqual([8, 8, 64]);
  });
});

describe("training configs", () => {
  it("saves a template, replaces it under the same name, lists and deletes it", async () => {
    await saveTrainingConfig(member, { projectId, name: "fast", hyperparameters: { epochs: 5 } });
    const saved = await saveTrainingConfig(member, { projectId, name: "fast", hyperparameters: { epochs: 7, lr0: 0.01 } });
    expect((await listTrainingConfigs(member)).map((c) => [c.name, c.hyperparameters])).toEqual([["fast", { epochs: 7, lr0: 0.01 }]]);
    expect(await listTrainingConfigs(outsider)).toEqual([]);
    await expect(deleteTrainingConfig(outsider, saved.id)).rejects.toBeInstanceOf(NotFound);
    await deleteTrainingConfig(member, saved.id);
    expect(await listTrainingConfigs(member)).toEqual([]);
  });
});
