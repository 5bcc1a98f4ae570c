import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { seedMemberAndOutsider } from "@/db/testing/fixtures";
import { createTestDb, type TestDb } from "@/db/testing/test-db";
import { createArchitecture } from "@/server/architectures/service";
import type { Ctx } from "@/server/context";
import { Invalid, NotFound } from "@/server/errors";
import { zooGraph } from "@/server/ml/zoo/index";
import { defaultProject } from "@/server/projects/service";
import { saveTrainingConfigInput } from "./schemas";
import { listTrainingConfigs, saveTrainingConfig } from "./service";

let tdb: TestDb;
let member: Ctx;
let outsider: Ctx;
let projectId: number;
let outsiderArchitectureId: number;

beforeAll(async () => {
  tdb = await createTestDb();
  ({ member, outsider } = await seedMemberAndOutsider(tdb.db));
  projectId = (await defaultProject(member)).id;
  const graph = zooGraph("reference-cnn", { imgsz: 32, numClasses: 3 }) as unknown as { nodes: Record<string, unknown>[]; edges: Record<string, unknown>[] };
  const outsiderProject = (await defaultProject(outsider)).id;
  outsiderArchitectureId = (await createArchitecture(outsider, { projectId: outsiderProject, name: "theirs", description: "", task: "classify", graph })).id;
});
afterAll(async () => {
  await tdb?.close();
});

describe("training configs with a model and device", () => {
  it("stores the zoo model and device beside the hyper-parameters, and a re-save replaces them", async () => {
    await saveTrainingConfig(member, { projectId, name: "gpu", hyperparameters: { epochs: 5 }, model: "resnet18", device: "cpu" });
    await saveTrainingConfig(member, { projectId, name: "gpu", hyperparameters: { epochs: 6 }, model: "yolov8n" });
    const [config] = await listTrainingConfigs(member, { projectId });
    expect([config.hyperparameters, config.model, config.architectureId, config.device]).toEqual([{ epochs: 6 }, "yolov8n", null, null]);
  });

  it("refuses a model the zoo does not have, naming it", async () => {
    await expect(saveTrainingConfig(member, { projectId, name: "x", hyperparameters: {}, model: "resnet9000" })).rejects.toThrow(Invalid);
    await expect(saveTrainingConfig(member, { projectId, name: "x", hyperparameters: {}, model: "resnet9000" })).rejects.toThrow(/resnet9000/);
  });

  it("refuses another team's architecture and a model given twice", async () => {
    await expect(saveTrainingConfig(member, { projectId, name: "x", hyperparameters: {}, architectureId: outsiderArchitectureId })).rejects.toThrow(NotFound);
    expect(saveTrainingConfigInput.safeParse({ projectId, name: "x", hyperparameters: {}, model: "resnet18", architectureId: 1 }).success).toBe(false);
  });
});
