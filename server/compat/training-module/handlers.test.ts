import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eq } from "drizzle-orm";
import { datasets, experimentMetrics, experiments, trainingConfigs, workers } from "@/db/schema";
import { setDefaultDataset } from "@/server/projects/default-dataset";
import { bearer, createDialectWorld, getRequest, insertReadyDataset, jsonRequest, sessionCookie, setExperimentState, type DialectWorld, routeContext } from "@/server/compat/shared/testing";
import { availableModels, createTask, dashboard, deleteTask, listConfigs, listTasks, saveConfig, startTask, stopTask, taskStatus } from "./handlers";

let w: DialectWorld;

beforeAll(async () => {
  w = await createDialectWorld();
}, 60_000);

afterAll(async () => {
  await w?.close();
});

const deps = () => ({ db: w.tdb.db, boss: w.boss });

async function create(body: Record<string, unknown>, key = w.key) {
  return createTask(jsonRequest("POST", "/training/create_task", { project_name: "default", model_type: "reference-cnn", ...body }, bearer(key)), deps());
}

describe("seed 000 routes: tasks", () => {
  it("creates a task on the project's only dataset and answers {success, task_id}", async () => {
    const res = await create({ task_name: "first", epochs: 3, batch_size: 4, learning_rate: 0.01, image_size: 32, device: "auto", optimizer: "auto" });
    expect(res.status).toBe(200);
    const body = await res.json();
    expect(body).toEqual({ success: true, task_id: expect.any(Number) });
    const [row] = await w.tdb.db.select().from(experiments).where(eq(experiments.id, body.task_id));
    expect(row).toMatchObject({ name: "first", status: "created", datasetId: w.datasetId, model: "reference-cnn", totalEpochs: 3 });
    expect(row.hyperparameters).toMatchObject({ epochs: 3, batch: 4, lr0: 0.01, imgsz: 32, optimizer: "auto" });
  });

  it("gives the task its own split by the ratios, leaving the dataset's split alone", async () => {
    const [before] = await w.tdb.db.select().from(datasets).where(eq(datasets.id, w.datasetId));
    const res = await create({ task_name: "ratios", train_ratio: 0.7, val_ratio: 0.2, test_ratio: 0.1 });
    expect(res.status).toBe(200);
    const [row] = await w.tdb.db.select().from(experiments).where(eq(experiments.id, (await res.json()).task_id));
    expect([row.splitRatios, row.splitSeed]).toEqual([{ train: 0.7, val: 0.2, test: 0.1 }, 0]);
    const [after] = await w.tdb.db.select().from(datasets).where(eq(datasets.id, w.datasetId));
    expect(after.splits).toEqual(before.splits);
  });

  it("answers 400 saying how to choose when the project has several datasets, and uses the project's default", async () => {
    const second = await insertReadyDataset(w.tdb, w.defaultProjectId, "second");
    try {
      const res = await create({ task_name: "ambiguous" });
      expect(res.status).toBe(400);
      const body = await res.json();
      expect(body.success).toBe(false);
      expect(body.error).toMatch(/2 datasets.*send dataset_id, or set the project's default dataset on the studio's Projects page/);
      const chosen = await create({ task_name: "chosen", dataset_id: second });
      expect(chosen.status).toBe(200);

      // A default named in the studio answers requests shaped like the document's, which carry no dataset.
      await setDefaultDataset(w.ctx, { projectId: w.defaultProjectId, datasetId: second });
      const byDefault = await create({ task_name: "by-default" });
      expect(byDefault.status).toBe(200);
      const [row] = await w.tdb.db.select().from(experiments).where(eq(experiments.id, (await byDefault.json()).task_id));
      expect(row.datasetId).toBe(second);
    } finally {
      await setDefaultDataset(w.ctx, { projectId: w.defaultProjectId, datasetId: null });
      await w.tdb.db.delete(experiments).where(eq(experiments.datasetId, second));
      await w.tdb.db.delete(datasets).where(eq(datasets.id, second));
    }
  });

  it("answers 401 without credentials and 404 for an unknown project", async () => {
    const anonymous = await createTask(jsonRequest("POST", "/training/create_task", { project_name: "default", task_name: "x", model_type: "reference-cnn" }), deps());
    expect(anonymous.status).toBe(401);
    expect(await anonymous.json()).toEqual({ success: false, error: expect.any(String) });
    const missing = await create({ project_name: "nope", task_name: "x" });
    expect(missing.status).toBe(404);
  });

  it("starts, reports status, lists, refuses a second start with 409, stops and deletes", async () => {
    const { task_id } = await (await create({ task_name: "lifecycle", epochs: 2 })).json();
    const ref = { project_name: "default", task_id };
    const started = await startTask(jsonRequest("POST", "/training/start_task", ref, bearer(w.key)), deps());
    expect(await started.json()).toEqual({ success: true, message: "训练任务已启动" });

    // The worker's side, as it would write it.
    await setExperimentState(w.tdb, task_id, { status: "running", progress: 50, currentEpoch: 1, startedAt: new Date("2024-09-15T10:05:00Z"), latestMetrics: { top1_acc: 0.5 } });
    await w.tdb.db.insert(experimentMetrics).values({ experimentId: task_id, epoch: 1, step: 0, values: { train_loss: 0.7 } });

    const status = await taskStatus(getRequest(`/training/task_status/default/${task_id}`, bearer(w.key)), routeContext({ project_name: "default", task_id: String(task_id) }, deps()));
    const { success, task } = await status.json();
    expect(success).toBe(true);
    expect(task).toMatchObject({ id: task_id, task_name: "lifecycle", model_type: "reference-cnn", status: "running", progress: 50, started_at: "2024-09-15T10:05:00", error_message: null, model_path: null, metrics: { top1_acc: 0.5 } });
    expect(task.logs).toEqual([{ epoch: 1, loss: 0.7, timestamp: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d$/) }]);

    const again = await startTask(jsonRequest("POST", "/training/start_task", ref, bearer(w.key)), deps());
    expect(again.status).toBe(409);

    const list = await (await listTasks(getRequest("/training/tasks/default", bearer(w.key)), routeContext({ project_name: "default" }, deps()))).json();
    expect(list.tasks.find((t: { id: number }) => t.id === task_id)).toEqual({ id: task_id, task_name: "lifecycle", model_type: "reference-cnn", status: "running", progress: 50, created_at: expect.any(String) });

    const refused = await deleteTask(jsonRequest("POST", "/training/delete_task", ref, bearer(w.key)), deps());
    expect(refused.status).toBe(409);
    expect((await refused.json()).success).toBe(false);

    const stopped = await stopTask(jsonRequest("POST", "/training/stop_task", ref, bearer(w.key)), deps());
    expect(await stopped.json()).toEqual({ success: true, message: "训练任务已停止" });
    const [row] = await w.tdb.db.select().from(experiments).where(eq(experiments.id, task_id));
    expect(row.status).toBe("stopping");

    await setExperimentState(w.tdb, task_id, { status: "stopped", finishedAt: new Date() });
    const deleted = await deleteTask(jsonRequest("POST", "/training/delete_task", ref, bearer(w.key)), deps());
    expect(await deleted.json()).toEqual({ success: true, message: "训练任务已删除" });
    expect(await w.tdb.db.select().from(experiments).where(eq(experiments.id, task_id))).toEqual([]);
  });

  it("answers 409 to stop_task on a task that never started, and to start_task once its dataset is gone", async () => {
    const { task_id } = await (await create({ task_name: "never-started" })).json();
    const ref = { project_name: "default", task_id };
    const stop = await stopTask(jsonRequest("POST", "/training/stop_task", ref, bearer(w.key)), deps());
    expect(stop.status).toBe(409);
    expect(await stop.json()).toEqual({ success: false, error: expect.stringMatching(/has not started/) });

    const doomed = await insertReadyDataset(w.tdb, w.defaultProjectId, "doomed");
    const orphan = (await (await create({ task_name: "orphan", dataset_id: doomed })).json()).task_id;
    await w.tdb.db.delete(datasets).where(eq(datasets.id, doomed));
    const start = await startTask(jsonRequest("POST", "/training/start_task", { project_name: "default", task_id: orphan }, bearer(w.key)), deps());
    expect(start.status).toBe(409);
    expect(await start.json()).toEqual({ success: false, error: expect.stringMatching(/dataset was deleted/) });
    const [row] = await w.tdb.db.select().from(experiments).where(eq(experiments.id, orphan));
    expect(row.status).toBe("created");
  });

  it("hides another team's task behind 404", async () => {
    const { task_id } = await (await create({ task_name: "private" })).json();
    const res = await taskStatus(getRequest(`/training/task_status/default/${task_id}`, bearer(w.otherKey)), routeContext({ project_name: "default", task_id: String(task_id) }, deps()));
    expect(res.status).toBe(404);
    const stop = await stopTask(jsonRequest("POST", "/training/stop_task", { project_name: "default", task_id }, bearer(w.otherKey)), deps());
    expect(stop.status).toBe(404);
  });

  it("lists the zoo's models and this host's devices", async () => {
    const body = await (await availableModels(getRequest("/training/available_models", bearer(w.key)), deps())).json();
    expect(body.success).toBe(true);
    expect(body.models).toContainEqual({ name: "yolov8n", description: expect.any(String) });
    expect(body.devices[0]).toEqual({ name: "auto", description: expect.any(String) });
  });
});

describe("seed 000 routes: training configs", () => {
  it("saves a config ({success, config_id}) with its model and device, and lists it with the document's fields", async () => {
    const body = { project_name: "default", config_name: "高精度配置", model_type: "yolov8l", epochs: 200, batch_size: 8, learning_rate: 0.005, image_size: 640, device: "auto", optimizer: "auto", augmentation: {}, other_params: {} };
    const saved = await saveConfig(jsonRequest("POST", "/training/save_config", body, bearer(w.key)), deps());
    const { success, config_id } = await saved.json();
    expect(success).toBe(true);
    const list = await (await listConfigs(getRequest("/training/configs/default", bearer(w.key)), routeContext({ project_name: "default" }, deps()))).json();
    expect(list).toEqual({
      success: true,
      configs: [{ id: config_id, config_name: "高精度配置", model_type: "yolov8l", epochs: 200, batch_size: 8, learning_rate: 0.005, created_at: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d$/) }],
    });
    const [stored] = await w.tdb.db.select().from(trainingConfigs).where(eq(trainingConfigs.id, config_id));
    expect([stored.model, stored.architectureId, stored.device]).toEqual(["yolov8l", null, "auto"]);

    // Ultralytics' keys become ops of the config's pipeline; what is no op or hyper-parameter is kept as given.
    const withAugmentation = await saveConfig(
      jsonRequest("POST", "/training/save_config", { ...body, config_name: "增强", augmentation: { fliplr: 0.5, degrees: 10, copy_paste: 0.1 }, other_params: { patience: 30, note: "夜间" } }, bearer(w.key)),
      deps(),
    );
    expect(withAugmentation.status).toBe(200);
    const [kept] = await w.tdb.db.select().from(trainingConfigs).where(eq(trainingConfigs.id, (await withAugmentation.json()).config_id));
    expect(kept.augmentation).toEqual([
      { op: "hflip", p: 0.5 },
      { op: "rotate", p: 1, degrees: 10, fill: 114 },
    ]);
    expect(kept.extra).toEqual({ copy_paste: 0.1, note: "夜间" });
    expect(kept.hyperparameters).toMatchObject({ patience: 30 });
    const other = await listConfigs(getRequest("/training/configs/default", bearer(w.otherKey)), routeContext({ project_name: "default" }, deps()));
    expect((await other.json()).configs).toEqual([]);
  });

  it("answers 400 naming a model the zoo does not have", async () => {
    const res = await saveConfig(jsonRequest("POST", "/training/save_config", { project_name: "default", config_name: "odd", model_type: "yolov99" }, bearer(w.key)), deps());
    expect(res.status).toBe(400);
    expect((await res.json()).error).toMatch(/yolov99/);
  });

  it("keeps an unknown setting as given, and answers 400 naming a known one with a bad value", async () => {
    const kept = await saveConfig(jsonRequest("POST", "/training/save_config", { project_name: "default", config_name: "odd", other_params: { warp_speed: 9 } }, bearer(w.key)), deps());
    expect(kept.status).toBe(200);
    const [row] = await w.tdb.db.select().from(trainingConfigs).where(eq(trainingConfigs.id, (await kept.json()).config_id));
    expect(row.extra).toEqual({ warp_speed: 9 });
    const bad = await saveConfig(jsonRequest("POST", "/training/save_config", { project_name: "default", config_name: "bad", other_params: { patience: -3 } }, bearer(w.key)), deps());
    expect(bad.status).toBe(400);
    expect((await bad.json()).error).toMatch(/patience/);
  });
});

describe("seed 000 routes: the HTML dashboard", () => {
  it("sends a visitor without a session to the login page", async () => {
    const res = await dashboard(getRequest("/training/default"), routeContext({ project_name: "default" }, deps()));
    expect(res.status).toBe(302);
    expect(res.headers.get("location")).toBe("/login?callbackUrl=%2Ftraining%2Fdefault");
  });

  it("renders the project's tasks for a logged-in user, escaped", async () => {
    await create({ task_name: "<b>escaped</b>" });
    const res = await dashboard(getRequest("/training/default", { cookie: await sessionCookie(w.userId, w.teamId) }), routeContext({ project_name: "default" }, deps()));
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/text\/html/);
    const html = await res.text();
    expect(html).toContain("&lt;b&gt;escaped&lt;/b&gt;");
    expect(html).toContain('fetch("/training/tasks/default"');
  });

  it("also shows the project's configs and the training hosts' status, as its document says", async () => {
    await w.tdb.db.insert(workers).values({ kind: "training", host: "gpu-box-1", pid: 4242, slots: 2, devices: [{ device: "cuda:0", backend: "tensorflow", description: "RTX" }], version: "test" });
    const html = await (await dashboard(getRequest("/training/default", { cookie: await sessionCookie(w.userId, w.teamId) }), routeContext({ project_name: "default" }, deps()))).text();
    expect(html).toMatch(/<h2>训练配置<\/h2>[\s\S]*高精度配置/);
    expect(html).toMatch(/<td>gpu-box-1<\/td><td>在线<\/td><td>2<\/td><td>cuda:0<\/td>/);
    expect(html).toMatch(/可用并发 2（1 个在线训练节点）/);
  });

  it("answers 404 for a project the user's team does not have", async () => {
    const res = await dashboard(getRequest("/training/elsewhere", { cookie: await sessionCookie(w.userId, w.teamId) }), routeContext({ project_name: "elsewhere" }, deps()));
    expect(res.status).toBe(404);
  });
});
