import { spawn } from "node:child_process";
import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";

const work = fs.mkdtempSync(path.join(os.tmpdir(), "supervisor-"));
// As root the embedded PostgreSQL runs as "postgres", which must be able to enter the folder.
fs.chmodSync(work, 0o755);
afterAll(() => fs.rmSync(work, { recursive: true, force: true }));

function listenOnFreePort(): Promise<net.Server> {
  return new Promise((resolve, reject) => {
    const holder = net.createServer();
    holder.once("error", reject);
    holder.listen(0, "127.0.0.1", () => resolve(holder));
  });
}
const portOf = (holder: net.Server) => (holder.address() as net.AddressInfo).port;

/** Runs `npm start`'s supervisor until it exits; its output and exit code. */
function startStudio(env: Record<string, string>): Promise<{ code: number | null; output: string }> {
  const inherited = { ...process.env };
  delete inherited.DATABASE_URL;
  const child = spawn(process.execPath, ["--import", "tsx", "workers/supervisor.ts"], {
    cwd: path.resolve(import.meta.dirname, ".."),
    env: { ...inherited, NODE_ENV: "production", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  child.stdout.on("data", (chunk) => (output += chunk));
  child.stderr.on("data", (chunk) => (output += chunk));
  return new Promise((resolve) => child.once("exit", (code) => resolve({ code, output })));
}

const problemLines = (output: string) => output.split("\n").filter((line) => line.includes("cannot start"));

describe("start-up errors", () => {
  it("names the taken embedded PostgreSQL port and the variable to set", async () => {
    const holder = await listenOnFreePort();
    const web = await listenOnFreePort();
    const webPort = portOf(web);
    web.close();
    try {
      const { code, output } = await startStudio({ STUDIO_DATA_DIR: path.join(work, "pg-port"), PORT: String(webPort), STUDIO_EMBEDDED_PG_PORT: String(portOf(holder)) });
      expect(code).toBe(1);
      expect(problemLines(output)).toEqual([expect.stringMatching(new RegExp(`Port ${portOf(holder)} .*taken.*Set STUDIO_EMBEDDED_PG_PORT`))]);
      expect(output).not.toMatch(/triggerUncaughtException|at .*\.ts:\d+/);
    } finally {
      holder.close();
    }
  });

  it("names the web port in use", async () => {
    const holder = await listenOnFreePort();
    try {
      const { code, output } = await startStudio({ STUDIO_DATA_DIR: path.join(work, "web-port"), HOST: "127.0.0.1", PORT: String(portOf(holder)) });
      expect(code).toBe(1);
      expect(problemLines(output)).toEqual([expect.stringMatching(new RegExp(`port ${portOf(holder)} .*in use.*set PORT`))]);
    } finally {
      holder.close();
    }
  });

  it("says the data folder cannot be written", async () => {
    const file = path.join(work, "a-file");
    fs.writeFileSync(file, "");
    const { code, output } = await startStudio({ STUDIO_DATA_DIR: path.join(file, "data") });
    expect(code).toBe(1);
    expect(problemLines(output)).toEqual([expect.stringMatching(/data folder .* cannot be written.*STUDIO_DATA_DIR.*ENOTDIR/)]);
  });

  it("says the migration failed when the database cannot be used", async () => {
    const holder = await listenOnFreePort();
    const port = portOf(holder);
    holder.close();
    const { code, output } = await startStudio({ STUDIO_DATA_DIR: path.join(work, "migration"), DATABASE_URL: `postgres://nobody:x@127.0.0.1:${port}/studio` });
    expect(code).toBe(1);
    expect(problemLines(output)).toEqual([expect.stringMatching(new RegExp(`database migration failed \\(DATABASE_URL 127.0.0.1:${port}\\): .*ECONNREFUSED`))]);
  });
});
