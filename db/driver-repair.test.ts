import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { describe, expect, it } from "vitest";

// scripts/patch-postgres.mjs runs after every install: without it a database restart can kill a process
// (a deferred write to a closed socket) or leave a reconnected connection that never sends a small query.
describe("the postgres driver as installed", () => {
  it("carries the closed-socket write repair in the builds the studio loads", () => {
    // The CommonJS entry is cjs/src/index.js: two folders below the package's own.
    const driverRoot = path.resolve(path.dirname(createRequire(import.meta.url).resolve("postgres")), "../..");
    for (const build of ["src", "cjs/src"]) {
      const source = readFileSync(path.join(driverRoot, build, "connection.js"), "utf8");
      expect(source, build).toContain("/* studio: closed-socket write guard */");
      expect(source.match(/clearImmediate\(nextWriteTimer\), nextWriteTimer = chunk = null/g), build).toHaveLength(2);
    }
  });
});
