import { mkdir, symlink, writeFile } from "node:fs/promises";
import path from "node:path";
import { TRPCError } from "@trpc/server";
import { count, eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { experiments, projects, weights } from "@/db/schema";
import { createRouteWorld, type RouteWorld } from "@/server/http/testing";
import { createCallerFactory } from "@/server/trpc/init";
import { appRouter } from "@/server/trpc/root";
import { createExperiment } from "./lifecycle";
import { pretrainedFileForRun } from "./pretrained";

let w: RouteWorld;
let outside: string;

beforeAll(async () => {
  w = await createRouteWorld();
  outside = path.join(path.dirname(w.importRoot), "outside.pt");
  await writeFile(outside, "not in an import root");
  await mkdir(path.join(w.importRoot, "models"), { recursive: true });
  await writeFile(path.join(w.importRoot, "models", "start.ckpt"), "a checkpoint");
  await symlink(outside, path.join(w.importRoot, "models", "escape.pt"));
}, 60_000);
afterAll(() => w?.close());

async function entry(projectId: number, name: string): Promise<number> {
  const sha256 = `${"1".repeat(56)}${String(Math.floor(Math.random() * 1e8)).padStart(8, "0")}`;
  const [row] = await w.tdb.db
    .insert(weights)
    .values({ projectId, name, format: "ckpt", task: "classify", file: `weights/${sha256}/weights.ckpt`, bytes: 10, sha256 })
    .returning({ id: weights.id });
  return row.id;
}

const create = (pretrained: string, extra: { weights?: number } = {}) =>
  createExperiment(w.member, { projectId: w.ids.project, name: `p-${Math.random()}`, datasetId: w.ids.dataset, model: "reference-cnn", hyperparameters: { pretrained, ...extra } });

const experimentCount = async () => (await w.tdb.db.select({ n: count() }).from(experiments))[0].n;

/** The refusal's field errors, as every face gets them. */
async function refusal(promise: Promise<unknown>): Promise<Record<string, string[]> | undefined> {
  const error = await promise.then(
    () => null,
    (e: { fields?: Record<string, string[]> }) => e,
  );
  expect(error, "the create was refused").not.toBeNull();
  return error!.fields;
}

describe("hyperparameters.pretrained", () => {
  it("refuses server paths outside the import roots, relative paths and links that leave them, storing nothing", async () => {
    const before = await experimentCount();
    for (const requested of ["/etc/passwd", outside, "models/start.ckpt", path.join(w.importRoot, "models", "escape.pt"), path.join(w.importRoot, "missing.pt"), path.join(w.importRoot, "models")]) {
      expect(Object.keys((await refusal(create(requested))) ?? {}), requested).toEqual(["hyperparameters.pretrained"]);
    }
    await expect(create("/etc/passwd")).rejects.toThrow(/hyperparameters\.pretrained: Server path \/etc\/passwd .*outside the allowed import roots/);
    expect(await experimentCount()).toBe(before);
  });

  it("keeps a file under an import root by its real path", async () => {
    const file = path.join(w.importRoot, "models", "..", "models", "start.ckpt");
    const experiment = await create(file);
    expect(experiment.hyperparameters.pretrained).toBe(path.join(w.importRoot, "models", "start.ckpt"));
  });

  it("takes a library entry of the team as weights:<id> or <id>, stored as hyperparameters.weights", async () => {
    const id = await entry(w.ids.project, "mine.ckpt");
    for (const reference of [`weights:${id}`, String(id)]) {
      const experiment = await create(reference);
      expect(experiment.hyperparameters).toMatchObject({ weights: id });
      expect(experiment.hyperparameters.pretrained).toBeUndefined();
    }
  });

  it("treats another team's entry as missing, and refuses a second, different starting point", async () => {
    const [theirProject] = await w.tdb.db.select({ id: projects.id }).from(projects).where(eq(projects.teamId, w.outsider.caller.teamId));
    const theirs = await entry(theirProject.id, "theirs.ckpt");
    expect(await refusal(create(`weights:${theirs}`))).toEqual({ "hyperparameters.pretrained": ["not found"] });
    const mine = await entry(w.ids.project, "other.ckpt");
    expect(Object.keys((await refusal(create(path.join(w.importRoot, "models", "start.ckpt"), { weights: mine }))) ?? {})).toEqual(["hyperparameters.pretrained"]);
    expect(Object.keys((await refusal(create(`weights:${theirs}`, { weights: mine }))) ?? {})).toEqual(["hyperparameters.pretrained"]);
  });

  it("is a 400 naming the field through tRPC", async () => {
    const caller = createCallerFactory(appRouter)({ db: w.tdb.db, caller: w.member.caller, mutationRefusal: null });
    const error = await caller.experiments
      .create({ projectId: w.ids.project, name: "via-trpc", datasetId: w.ids.dataset, model: "reference-cnn", hyperparameters: { pretrained: "/etc/shadow" } })
      .catch((e: TRPCError) => e);
    expect(error).toBeInstanceOf(TRPCError);
    expect((error as TRPCError).code).toBe("BAD_REQUEST");
    expect((error as TRPCError).message).toMatch(/hyperparameters\.pretrained/);
  });

  it("is checked again when the run starts: a row naming another file fails the run", async () => {
    await expect(pretrainedFileForRun("/etc/passwd")).rejects.toThrow(/outside the allowed import roots/);
    await expect(pretrainedFileForRun(path.join(w.importRoot, "models", "start.ckpt"))).resolves.toBe(path.join(w.importRoot, "models", "start.ckpt"));
  });
});
