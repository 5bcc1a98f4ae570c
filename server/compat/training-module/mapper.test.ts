import { describe, expect, it } from "vitest";
import { Conflict, DomainError, Invalid, NotFound, Unauthorized } from "@/server/errors";
import { legacyStatus } from "@/server/compat/shared/experiment-common";
import { experimentRow } from "@/server/compat/shared/experiment-fixture";
import {
  parseTrainingModuleCreateTask,
  parseTrainingModuleSaveConfig,
  parseTrainingModuleTaskIdParam,
  parseTrainingModuleTaskRef,
  trainingModuleAvailableModels,
  trainingModuleConfig,
  trainingModuleError,
  trainingModuleTaskDetail,
  trainingModuleTaskSummary,
} from "./mapper";

// Examples from seed 000 (VisioFirm training module API).
const seedTaskStatus = {
  success: true,
  task: {
    id: 123,
    task_name: "string",
    model_type: "yolov8s",
    status: "running",
    progress: 75,
    created_at: "2024-09-15T10:00:00",
    started_at: "2024-09-15T10:05:00",
    error_message: null,
    model_path: "/path/to/model.pt",
    metrics: { mAP50: 0.856, precision: 0.891, recall: 0.823 },
    logs: [{ epoch: 75, loss: 0.245, timestamp: "2024-09-15T10:30:00" }],
  },
};
const seedTaskList = { success: true, tasks: [{ id: 123, task_name: "string", model_type: "yolov8s", status: "completed", progress: 100, created_at: "2024-09-15T10:00:00" }] };
const seedConfigs = {
  success: true,
  configs: [{ id: 456, config_name: "高精度配置", model_type: "yolov8l", epochs: 200, batch_size: 8, learning_rate: 0.005, created_at: "2024-09-15T09:00:00" }],
};
const seedCreateBody = {
  project_name: "string",
  task_name: "string",
  model_type: "string",
  train_ratio: 0.7,
  val_ratio: 0.2,
  test_ratio: 0.1,
  epochs: 100,
  batch_size: 16,
  learning_rate: 0.01,
  image_size: 640,
  device: "auto",
  optimizer: "auto",
};

describe("seed 000 training module: responses", () => {
  it("renders a task's status exactly like the document's example", () => {
    const dataDir = "/srv/studio";
    const experiment = experimentRow({
      status: "running",
      progress: 75,
      startedAt: new Date("2024-09-15T10:05:00Z"),
      latestMetrics: { mAP50: 0.856, precision: 0.891, recall: 0.823 },
      runDir: "runs/default/string",
      bestEpoch: 74,
    });
    const points = [
      { epoch: 75, step: 0, values: { train_loss: 0.245 }, createdAt: new Date("2024-09-15T10:30:00Z") },
      { epoch: 75, step: 10, values: { train_loss: 0.3 }, createdAt: new Date("2024-09-15T10:29:00Z") },
    ];
    const body = { success: true, task: trainingModuleTaskDetail(experiment, points, dataDir) };
    expect(body).toEqual({ ...seedTaskStatus, task: { ...seedTaskStatus.task, model_path: "runs/default/string/weights/best.ckpt" } });
  });

  it("sums a detector's box, cls and dfl losses into an epoch's loss and renames mAP50_95", () => {
    const detail = trainingModuleTaskDetail(
      experimentRow({ latestMetrics: { mAP50_95: 0.5 } }),
      [{ epoch: 1, step: 0, values: { train_box_loss: 1, train_cls_loss: 0.5, train_dfl_loss: 0.25 }, createdAt: new Date() }],
      "/d",
    );
    expect(detail.logs[0].loss).toBe(1.75);
    expect(detail.metrics).toEqual({ "mAP50-95": 0.5 });
    expect(detail.model_path).toBeNull();
  });

  it("renders a task list row exactly like the example", () => {
    const row = trainingModuleTaskSummary(experimentRow({ status: "completed", progress: 100 }));
    expect({ success: true, tasks: [row] }).toEqual(seedTaskList);
  });

  it("renders a saved config exactly like the example", () => {
    const config = trainingModuleConfig({
      id: 456,
      name: "高精度配置",
      hyperparameters: { epochs: 200, batch: 8, lr0: 0.005 },
      model: "yolov8l",
      architectureId: null,
      createdAt: new Date("2024-09-15T09:00:00Z"),
    });
    expect({ success: true, configs: [config] }).toEqual(seedConfigs);
  });

  it("names a config's architecture as architecture:<id>, and no model as null", () => {
    const base = { id: 1, name: "c", hyperparameters: {}, createdAt: new Date() };
    expect(trainingModuleConfig({ ...base, model: null, architectureId: 7 }).model_type).toBe("architecture:7");
    expect(trainingModuleConfig({ ...base, model: null, architectureId: null }).model_type).toBeNull();
  });

  it("lists models and devices as {name, description}", () => {
    const body = trainingModuleAvailableModels([{ name: "yolov8n", description: "YOLOv8 nano" }], [{ device: "auto", description: "wasm" }]);
    expect(body).toEqual({ success: true, models: [{ name: "yolov8n", description: "YOLOv8 nano" }], devices: [{ name: "auto", description: "wasm" }] });
  });

  it("maps every studio status onto the module's words", () => {
    expect(legacyStatus("created")).toBe("pending");
    expect(legacyStatus("queued")).toBe("pending");
    expect(legacyStatus("stopping")).toBe("running");
    expect(legacyStatus("pausing")).toBe("running");
    expect(legacyStatus("completed")).toBe("completed");
    expect(legacyStatus("failed")).toBe("failed");
    expect(legacyStatus("stopped")).toBe("stopped");
  });
});

describe("seed 000 training module: errors", () => {
  it.each([
    [new Invalid("bad"), 400],
    [new Unauthorized("who"), 401],
    [new NotFound("gone"), 404],
    [new Conflict("running"), 409],
    [new DomainError("boom"), 500],
  ])("renders %s as {success:false, error} with its status", async (err, status) => {
    const res = trainingModuleError(err);
    expect(res.status).toBe(status);
    expect(await res.json()).toEqual({ success: false, error: err.message });
  });
});

describe("seed 000 training module: requests", () => {
  it("reads the document's create_task body into engine names", () => {
    expect(parseTrainingModuleCreateTask(seedCreateBody)).toEqual({
      projectName: "string",
      name: "string",
      model: { model: "string" },
      datasetId: undefined,
      splitRatios: { train: 0.7, val: 0.2, test: 0.1 },
      device: "auto",
      hyperparameters: { epochs: 100, batch: 16, lr0: 0.01, imgsz: 640, optimizer: "auto" },
    });
  });

  it("reads the JavaScript example's shorter body (no ratios, no optimizer)", () => {
    const input = parseTrainingModuleCreateTask({ project_name: "my_project", task_name: "第一个训练任务", model_type: "yolov8s", epochs: 100, batch_size: 16, learning_rate: 0.01 });
    expect(input.splitRatios).toBeUndefined();
    expect(input.hyperparameters).toEqual({ epochs: 100, batch: 16, lr0: 0.01 });
  });

  it("refuses ratios that do not add up to 1, naming them", () => {
    expect(() => parseTrainingModuleCreateTask({ ...seedCreateBody, test_ratio: 0.3 })).toThrow(/train_ratio \+ val_ratio \+ test_ratio must be 1/);
  });

  it("names a missing field and an unknown optimizer", () => {
    expect(() => parseTrainingModuleCreateTask({ ...seedCreateBody, task_name: undefined })).toThrow(/task_name is required/);
    expect(() => parseTrainingModuleCreateTask({ ...seedCreateBody, optimizer: "lion" })).toThrow(/optimizer must be one of/);
    expect(parseTrainingModuleCreateTask({ ...seedCreateBody, optimizer: "adamw" }).hyperparameters.optimizer).toBe("AdamW");
  });

  it("accepts task ids as numbers or digit strings and refuses others", () => {
    expect(parseTrainingModuleTaskRef({ project_name: "p", task_id: 123 })).toEqual({ projectName: "p", taskId: 123 });
    expect(parseTrainingModuleTaskRef({ project_name: "p", task_id: "123" })).toEqual({ projectName: "p", taskId: 123 });
    expect(() => parseTrainingModuleTaskRef({ project_name: "p", task_id: "abc" })).toThrow(Invalid);
    expect(() => parseTrainingModuleTaskIdParam("abc")).toThrow(NotFound);
  });

  it("reads save_config into engine hyper-parameters, Ultralytics augmentation keys into our ops, and keeps the rest as given", () => {
    const body = { project_name: "p", config_name: "c", model_type: "yolov8s", epochs: 100, batch_size: 16, learning_rate: 0.01, image_size: 640, device: "auto", optimizer: "auto", augmentation: {}, other_params: { patience: 20 } };
    expect(parseTrainingModuleSaveConfig(body)).toEqual({
      projectName: "p",
      name: "c",
      hyperparameters: { patience: 20, epochs: 100, batch: 16, lr0: 0.01, imgsz: 640, optimizer: "auto" },
      augmentation: null,
      extra: {},
      model: { model: "yolov8s" },
      device: "auto",
    });
    const ultralytics = parseTrainingModuleSaveConfig({ ...body, augmentation: { fliplr: 0.5, hsv_v: 0.4, mosaic: 0.8, mixup: 0.1 }, other_params: { patience: 20, cache_images: true } });
    expect(ultralytics.augmentation).toEqual([
      { op: "hflip", p: 0.5 },
      { op: "brightness", p: 1, amount: 0.4 },
    ]);
    expect(ultralytics.hyperparameters).toMatchObject({ mosaic: 0.8, patience: 20 });
    expect(ultralytics.extra).toEqual({ mixup: 0.1, cache_images: true });
    expect(parseTrainingModuleSaveConfig({ ...body, model_type: "architecture:12" }).model).toEqual({ architectureId: 12 });
  });
});
