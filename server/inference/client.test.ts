import { execFile } from "node:child_process";
import { createRequire } from "node:module";
import os from "node:os";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { describe, expect, it } from "vitest";

describe("the inference worker thread", () => {
  it("starts from any working directory: its script is found beside the module that starts it", async () => {
    const tsx = pathToFileURL(createRequire(import.meta.url).resolve("tsx")).href;
    const client = pathToFileURL(path.join(import.meta.dirname, "client.ts")).href;
    // This process finds the repository's tsconfig through the variable; the worker thread must find it itself.
    const script = [
      "delete process.env.TSX_TSCONFIG_PATH;",
      `const { workerCacheStats, closeInferenceWorker } = await import(${JSON.stringify(client)});`,
      "console.log(JSON.stringify(await workerCacheStats()));",
      "await closeInferenceWorker();",
    ].join("\n");
    const env = { ...process.env, TSX_TSCONFIG_PATH: path.resolve(import.meta.dirname, "../../tsconfig.json") };
    const stdout = await new Promise<string>((resolve, reject) =>
      execFile(process.execPath, ["--import", tsx, "--input-type=module", "-e", script], { cwd: os.tmpdir(), env, timeout: 60_000 }, (error, out, err) => (error ? reject(new Error(`the worker did not answer: ${err.split("\n").find((line) => /^\w*Error\b/.test(line)) ?? error.message}`)) : resolve(out))),
    );
    expect(JSON.parse(stdout.trim().split("\n").pop()!)).toMatchObject({ sessions: 0 });
  }, 90_000);
});
