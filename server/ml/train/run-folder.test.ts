import { mkdtemp, readdir, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createRunFolder, RunFolderError } from "./run-folder";

let root: string;
let runsDir: string;

beforeAll(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), "run-folder-"));
  runsDir = path.join(root, "runs");
});

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describe("createRunFolder", () => {
  it("creates runs/<project>/<name>, then name2", async () => {
    expect((await createRunFolder({ runsDir, project: "vision", name: "exp" })).dir).toBe(path.join(runsDir, "vision", "exp"));
    expect((await createRunFolder({ runsDir, project: "vision", name: "exp" })).dir).toBe(path.join(runsDir, "vision", "exp2"));
  });

  it.each([
    ["..", "exp"],
    [".", "exp"],
    ["vision", ".."],
    ["a/../..", "exp"],
    ["vision", "x\\y"],
    ["", "exp"],
  ])("refuses project %j / name %j, which would leave runs/, and creates nothing", async (project, name) => {
    await expect(createRunFolder({ runsDir, project, name })).rejects.toThrow(RunFolderError);
    expect((await readdir(root)).sort()).toEqual(["runs"]);
    expect(await readdir(runsDir)).toEqual(["vision"]);
  });
});
