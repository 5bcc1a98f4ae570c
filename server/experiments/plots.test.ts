import { mkdir, mkdtemp, symlink, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import sharp from "sharp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { experiments } from "@/db/schema";
import { seedMemberAndOutsider } from "@/db/testing/fixtures";
import { createTestDb, type TestDb } from "@/db/testing/test-db";
import type { Ctx } from "@/server/context";
import { NotFound } from "@/server/errors";
import { defaultProject } from "@/server/projects/service";
import { listPlots, servePlot } from "./plots";

let tdb: TestDb;
let member: Ctx;
let outsider: Ctx;
let runDir: string;
let withPlots: number;
let notStarted: number;
let linkedPlots: number;
let linkedRunDir: string;
let resultsPng: Buffer;

beforeAll(async () => {
  tdb = await createTestDb();
  ({ member, outsider } = await seedMemberAndOutsider(tdb.db));
  const projectId = (await defaultProject(member)).id;

  // A run folder as the engine leaves it, plus things that must never be served.
  const root = await mkdtemp(path.join(os.tmpdir(), "experiment-plots-"));
  runDir = path.join(root, "runs", "default", "exp");
  await mkdir(path.join(runDir, "plots"), { recursive: true });
  resultsPng = await sharp({ create: { width: 40, height: 30, channels: 3, background: "#ffffff" } }).png().toBuffer();
  await writeFile(path.join(runDir, "plots", "results.png"), resultsPng);
  await writeFile(path.join(runDir, "plots", "PR_curve.png"), resultsPng);
  await writeFile(path.join(runDir, "plots", "confusion_matrix.png"), resultsPng);
  await writeFile(path.join(runDir, "plots", ".results.png.1a2b.tmp"), "half written");
  await writeFile(path.join(runDir, "plots", "notes.txt"), "not a plot");
  await writeFile(path.join(runDir, "args.json"), '{"secret": true}');
  await symlink(path.join(runDir, "args.json"), path.join(runDir, "plots", "linked.png"));
  await mkdir(path.join(runDir, "plots", "folder.png"));
  // A run whose plots folder is a link out of its run folder.
  linkedRunDir = path.join(root, "runs", "default", "linked");
  await mkdir(linkedRunDir, { recursive: true });
  await symlink(path.join(runDir, "plots"), path.join(linkedRunDir, "plots"));

  const rows = await tdb.db
    .insert(experiments)
    .values([
      { projectId, name: "with-plots", hyperparameters: {}, runDir },
      { projectId, name: "not-started", hyperparameters: {} },
      { projectId, name: "linked", hyperparameters: {}, runDir: linkedRunDir },
    ])
    .returning({ id: experiments.id });
  [withPlots, notStarted, linkedPlots] = rows.map((r) => r.id);
}, 60_000);

afterAll(async () => {
  await tdb?.close();
});

describe("listPlots", () => {
  it("lists the run's PNGs in Ultralytics' reading order with mtimes, and nothing else of the folder", async () => {
    const plots = await listPlots(member, withPlots);
    expect(plots.map((p) => p.name)).toEqual(["results.png", "confusion_matrix.png", "PR_curve.png"]);
    expect(plots[0]).toMatchObject({ bytes: resultsPng.length, mtime: expect.any(Number) });
    expect(Math.abs(plots[0].mtime - Date.now())).toBeLessThan(60_000);
  });

  it("is empty for an experiment without a run folder, or whose plots folder is a link", async () => {
    expect(await listPlots(member, notStarted)).toEqual([]);
    expect(await listPlots(member, linkedPlots)).toEqual([]);
  });

  it("treats another team's experiment as not found", async () => {
    await expect(listPlots(outsider, withPlots)).rejects.toThrow(NotFound);
  });
});

describe("servePlot", () => {
  it("serves a real PNG as image/png", async () => {
    const response = await servePlot(member, withPlots, "results.png");
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toBe("image/png");
    expect(response.headers.get("content-length")).toBe(String(resultsPng.length));
    const body = Buffer.from(await response.arrayBuffer());
    expect(await sharp(body).metadata()).toMatchObject({ format: "png", width: 40, height: 30 });
  });

  it("is 404 for another team's experiment, even for a plot that exists", async () => {
    await expect(servePlot(outsider, withPlots, "results.png")).rejects.toThrow(NotFound);
  });

  it("refuses names that are not plain PNG names (paths, other files, temp files) and links out of the folder", async () => {
    for (const name of ["../args.json", "..%2Fargs.json", "../plots/results.png", "/etc/passwd", "notes.txt", ".results.png.1a2b.tmp", "linked.png", "folder.png"]) {
      await expect(servePlot(member, withPlots, name), name).rejects.toThrow(NotFound);
    }
  });

  it("is 404 for a plot not drawn yet and for an experiment without a run folder", async () => {
    await expect(servePlot(member, withPlots, "F1_curve.png")).rejects.toThrow(/Experiment \d+ has no plot F1_curve.png/);
    await expect(servePlot(member, notStarted, "results.png")).rejects.toThrow(NotFound);
    await expect(servePlot(member, linkedPlots, "results.png")).rejects.toThrow(NotFound);
  });
});
