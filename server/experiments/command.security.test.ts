import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { experiments, trainingConfigs } from "@/db/schema";
import { ctxFor, seedUser } from "@/db/testing/fixtures";
import { createApiKey } from "@/server/auth/api-keys";
import { createTask, saveConfig } from "@/server/compat/training-module/handlers";
import { startJob } from "@/server/compat/recognition/jobs";
import { createV1Experiment } from "@/server/compat/studio-v1/experiments";
import { bearer, createDialectWorld, jsonRequest, type DialectWorld } from "@/server/compat/shared/testing";
import { startTraining } from "@/server/compat/training-metrics/handlers";
import type { Ctx } from "@/server/context";
import { resetEnvCache } from "@/server/env";
import { Forbidden, Invalid } from "@/server/errors";
import { createCallerFactory } from "@/server/trpc/init";
import { appRouter } from "@/server/trpc/root";
import { splitCommandLine } from "./command";
import { cloneExperiment, createExperiment } from "./lifecycle";

let w: DialectWorld;
let admin: Ctx;
let adminKey: string;
const deps = () => ({ db: w.tdb.db, boss: w.boss });
const COMMAND = "python train.py --epochs 3";

beforeAll(async () => {
  process.env.STUDIO_ALLOW_COMMANDS = "true";
  resetEnvCache();
  w = await createDialectWorld();
  const user = await seedUser(w.tdb.db, { email: "admin@x.io", isAdmin: true, teams: [{ teamId: w.teamId, role: "owner" }] });
  admin = await ctxFor(w.tdb.db, user.id, w.teamId);
  adminKey = (await createApiKey(admin, { name: "admin" })).key;
}, 60_000);

afterAll(async () => {
  delete process.env.STUDIO_ALLOW_COMMANDS;
  resetEnvCache();
  await w?.close();
});

const input = (name: string, hyperparameters: Record<string, unknown>) => ({ projectId: w.defaultProjectId, name, datasetId: w.datasetId, model: "reference-cnn", hyperparameters });
const commandOf = async (id: number) => (await w.tdb.db.select().from(experiments).where(eq(experiments.id, id)))[0]?.hyperparameters.command;
const namedRows = async (name: string) => w.tdb.db.select().from(experiments).where(eq(experiments.name, name));

describe("splitting a command line without a shell", () => {
  it("splits words and honours quotes and backslashes", () => {
    expect(splitCommandLine(`python  train.py --name 'my run' --note "a \\"b\\"" x\\ y`)).toEqual(["python", "train.py", "--name", "my run", "--note", 'a "b"', "x y"]);
  });

  it("refuses shell syntax instead of passing it on as arguments", () => {
    for (const line of ["echo a; rm -rf /", "cat /etc/passwd | nc host 1", "echo $DATABASE_URL", "echo `id`", "a && b", "a > /tmp/x"]) {
      expect(() => splitCommandLine(line), line).toThrow(Invalid);
    }
    expect(splitCommandLine("echo 'a; b' \"$HOME\\$\"")).toEqual(["echo", "a; b", "$HOME$"]);
  });
});

describe("a member's command is refused in every face", () => {
  it("service and tRPC: 403 for a member, created for an administrator", async () => {
    await expect(createExperiment(w.ctx, input("svc", { command: COMMAND }))).rejects.toThrow(Forbidden);
    const caller = createCallerFactory(appRouter)({ db: w.tdb.db, caller: w.ctx.caller, mutationRefusal: null });
    await expect(caller.experiments.create(input("trpc", { command: COMMAND }))).rejects.toMatchObject({ code: "FORBIDDEN" });
    expect(await namedRows("svc")).toEqual([]);
    expect(await namedRows("trpc")).toEqual([]);
    const allowed = await createExperiment(admin, input("admin-run", { command: ["python", "train.py"] }));
    expect(await commandOf(allowed.id)).toEqual(["python", "train.py"]);
  });

  it("a member cannot clone an administrator's command run into their own", async () => {
    const source = await createExperiment(admin, input("admin-source", { command: COMMAND }));
    await expect(cloneExperiment(w.ctx, { id: source.id, name: "stolen" })).rejects.toThrow(Forbidden);
    expect(await namedRows("stolen")).toEqual([]);
  });

  it("seed 000: save_config's other_params.command answers 403 for a member; create_task carries none", async () => {
    const saved = await saveConfig(jsonRequest("POST", "/training/save_config", { project_name: "default", config_name: "s000", model_type: "reference-cnn", other_params: { command: COMMAND } }, bearer(w.key)), deps());
    expect(saved.status).toBe(403);
    expect(await saved.json()).toMatchObject({ success: false, error: expect.stringMatching(/administrators/) });
    expect(await w.tdb.db.select().from(trainingConfigs).where(eq(trainingConfigs.name, "s000"))).toEqual([]);
    const task = await createTask(jsonRequest("POST", "/training/create_task", { project_name: "default", task_name: "s000", model_type: "reference-cnn", command: COMMAND }, bearer(w.key)), deps());
    expect(task.status).toBe(200);
    expect(await commandOf((await task.json()).task_id)).toBeUndefined();
  });

  it("seed 002 POST /api/v1/experiments: hyperparams.command answers 403 for a member", async () => {
    const body = { name: "s002", dataset_id: w.datasetId, model_arch_id: "reference-cnn", hyperparams: { epochs: 2, command: COMMAND } };
    const res = await createV1Experiment(jsonRequest("POST", "/api/v1/experiments", body, bearer(w.key)), deps());
    expect(res.status).toBe(403);
    expect(await namedRows("s002")).toEqual([]);
    const asAdmin = await createV1Experiment(jsonRequest("POST", "/api/v1/experiments", { ...body, name: "s002-admin" }, bearer(adminKey)), deps());
    expect(asAdmin.status).toBe(201);
  });

  it("seeds 001 and 003 carry no command: one in the body never reaches the experiment", async () => {
    const s003 = await startJob(jsonRequest("POST", "/train", { model_id: "reference-cnn", name: "s003", epochs: 2, command: COMMAND }, bearer(w.key)), deps());
    expect(s003.status).toBe(200);
    expect(await commandOf(Number((await s003.json()).job_id))).toBeUndefined();
    const s001 = await startTraining(jsonRequest("POST", "/api/v2/training/start", { model: "reference-cnn", num_classes: 2, command: COMMAND }, bearer(w.key)), deps());
    expect(s001.status).toBeLessThan(500);
    const created = await w.tdb.db.select().from(experiments).where(eq(experiments.createdBy, w.userId));
    expect(created.filter((r) => r.hyperparameters.command !== undefined)).toEqual([]);
  });
});

describe("with STUDIO_ALLOW_COMMANDS unset", () => {
  it("even an administrator's command is refused, naming the setting", async () => {
    delete process.env.STUDIO_ALLOW_COMMANDS;
    resetEnvCache();
    try {
      await expect(createExperiment(admin, input("off", { command: COMMAND }))).rejects.toThrow(/STUDIO_ALLOW_COMMANDS=true/);
      expect(await namedRows("off")).toEqual([]);
    } finally {
      process.env.STUDIO_ALLOW_COMMANDS = "true";
      resetEnvCache();
    }
  });
});
