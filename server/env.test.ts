import { afterEach, describe, expect, it } from "vitest";
import { env, resetEnvCache } from "./env";

/** env() parses process.env: each case sets one variable and reads the result or the start-up error. */
function withVariable(name: string, value: string): () => ReturnType<typeof env> {
  process.env[name] = value;
  resetEnvCache();
  return env;
}

const saved = { ...process.env };
afterEach(() => {
  for (const name of ["STUDIO_IMPORT_ROOTS"]) {
    if (saved[name] === undefined) delete process.env[name];
    else process.env[name] = saved[name];
  }
  resetEnvCache();
});

describe("STUDIO_IMPORT_ROOTS", () => {
  it("takes absolute folders separated by ':'", () => {
    expect(withVariable("STUDIO_IMPORT_ROOTS", "/srv/data:/mnt/models/")().importRoots).toEqual(["/srv/data", "/mnt/models"]);
  });

  it("refuses relative folders and the filesystem's root at start-up, naming the variable", () => {
    expect(withVariable("STUDIO_IMPORT_ROOTS", "/srv/data:models")).toThrow(/STUDIO_IMPORT_ROOTS: each folder must be an absolute path/);
    expect(withVariable("STUDIO_IMPORT_ROOTS", "/srv/data:/")).toThrow(/STUDIO_IMPORT_ROOTS: the filesystem's root would let members read every file/);
    expect(withVariable("STUDIO_IMPORT_ROOTS", "/srv/../")).toThrow(/STUDIO_IMPORT_ROOTS: the filesystem's root/);
  });
});
