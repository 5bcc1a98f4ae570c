import { spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";

/**
 * Runs the browser suite against a real studio: starts `npm start`'s supervisor on a fresh
 * data folder and its own ports, waits until /api/health is up, runs e2e/*.e2e.ts with node's
 * test runner, then stops the studio with SIGTERM and checks that nothing was left running.
 * E2E_ONLY=<text> runs only the files whose name contains it.
 */
const port = Number(process.env.E2E_PORT ?? 3901);
const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "studio-e2e-"));
// Server folders the tests import from: never the data folder, which the studio refuses to read from.
const importsDir = fs.mkdtempSync(path.join(os.tmpdir(), "studio-e2e-imports-"));
const adminPassword = "e2e-admin-password";
const baseUrl = `http://localhost:${port}`;

const studioEnv: NodeJS.ProcessEnv = {
  ...process.env,
  PORT: String(port),
  STUDIO_DATA_DIR: dataDir,
  STUDIO_EMBEDDED_PG_PORT: String(port + 100),
  STUDIO_ADMIN_EMAIL: "admin@e2e.local",
  STUDIO_ADMIN_PASSWORD: adminPassword,
  STUDIO_IMPORT_ROOTS: importsDir,
};
delete studioEnv.DATABASE_URL;

const studio = spawn(process.execPath, ["--import", "tsx", "workers/supervisor.ts"], { env: studioEnv, stdio: ["ignore", "pipe", "pipe"] });
const studioLog = fs.createWriteStream(path.join(dataDir, "studio.log"));
studio.stdout.pipe(studioLog);
studio.stderr.pipe(studioLog);

async function waitHealthy(timeoutMs: number) {
  const deadline = Date.now() + timeoutMs;
  let last = "";
  while (Date.now() < deadline) {
    if (studio.exitCode !== null) throw new Error(`studio exited with ${studio.exitCode}`);
    try {
      const res = await fetch(`${baseUrl}/api/health`);
      last = `${res.status} ${await res.text()}`;
      if (res.ok) return;
    } catch (err) {
      last = String(err);
    }
    await new Promise((r) => setTimeout(r, 1000));
  }
  throw new Error(`studio not healthy after ${timeoutMs / 1000} s: ${last}`);
}

function stopStudio(): Promise<number | null> {
  return new Promise((resolve) => {
    if (studio.exitCode !== null) return resolve(studio.exitCode);
    studio.once("exit", (code) => resolve(code));
    studio.kill("SIGTERM");
  });
}

let exitCode = 1;
try {
  await waitHealthy(10 * 60_000);
  const files = fs.readdirSync("e2e").filter((f) => f.endsWith(".e2e.ts") && (!process.env.E2E_ONLY || f.includes(process.env.E2E_ONLY))).map((f) => path.join("e2e", f));
  const tests = spawn(process.execPath, ["--import", "tsx", "--test", "--test-concurrency=1", ...files], {
    stdio: "inherit",
    env: { ...process.env, E2E_BASE_URL: baseUrl, E2E_ADMIN_EMAIL: "admin@e2e.local", E2E_ADMIN_PASSWORD: adminPassword, E2E_IMPORTS_DIR: importsDir },
  });
  exitCode = await new Promise<number>((resolve) => tests.on("exit", (code) => resolve(code ?? 1)));
} catch (err) {
  console.error(err);
} finally {
  const code = await stopStudio();
  const leftovers = await studioProcessesLeft();
  if (code !== 0 || leftovers.length > 0) {
    console.error(`studio stop: exit ${code}; processes left: ${leftovers.join(", ") || "none"}`);
    exitCode = 1;
  }
  if (exitCode !== 0) console.error(`studio log: ${path.join(dataDir, "studio.log")}\n${fs.readFileSync(path.join(dataDir, "studio.log"), "utf8").slice(-6000)}`);
  else for (const dir of [dataDir, importsDir]) fs.rmSync(dir, { recursive: true, force: true });
}
process.exit(exitCode);

/** Processes still running with the e2e data folder on their command line (PostgreSQL included). */
async function studioProcessesLeft(): Promise<string[]> {
  await new Promise((r) => setTimeout(r, 500));
  const found: string[] = [];
  for (const pid of fs.readdirSync("/proc").filter((d) => /^\d+$/.test(d))) {
    try {
      const cmd = fs.readFileSync(`/proc/${pid}/cmdline`, "utf8").replace(/\0/g, " ");
      const env = fs.readFileSync(`/proc/${pid}/environ`, "utf8");
      if (Number(pid) !== process.pid && (cmd.includes(dataDir) || env.includes(`STUDIO_DATA_DIR=${dataDir}`))) found.push(`${pid} ${cmd.slice(0, 80)}`);
    } catch {
      // The process ended while we looked.
    }
  }
  return found;
}
