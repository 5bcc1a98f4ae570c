import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import crypto from "node:crypto";
import fs from "node:fs";
import net from "node:net";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { startEmbeddedPostgres, type EmbeddedServer } from "@/db/embedded";
import { connect } from "@/db/client";
import { runMigrations } from "@/db/migrate";
import { ensureFirstAdmin } from "@/server/auth/users";
import { studioSecret } from "@/server/auth/secret";
import { createSystemLogSink, levelOf, type SystemLogSink } from "@/server/system/logs";
import { env, resetEnvCache } from "@/server/env";
import { sweepOrphanWeightsFiles } from "@/server/weights/storage";
import { EXIT_CANNOT_START } from "./exit-codes";

/**
 * `npm start` / `npm run dev`: the whole studio from one command. Brings up PostgreSQL
 * (embedded unless DATABASE_URL is set), migrates, creates the first admin, builds the web
 * app when needed, then runs and supervises the web server, a training worker and the
 * realtime sidecar. Ctrl-C / SIGTERM stops all of them and PostgreSQL.
 */
const dev = process.argv.includes("--dev");
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const log = (msg: string) => {
  console.log(`[studio] ${msg}`);
  logStore.sink?.add("studio", "info", msg);
};
// The processes' output is also kept in the database (system_logs) once it is migrated.
const logStore: { sink?: SystemLogSink } = {};

let stopping = false;
let pg: EmbeddedServer | undefined;
let pgRestart: Promise<void> | undefined;

/** A start-up problem the operator can fix: one line saying what is wrong and what to do, then exit 1. */
async function cannotStart(message: string): Promise<never> {
  console.error(`[studio] cannot start: ${message}`);
  await pg?.stop().catch(() => {});
  process.exit(1);
}

const reason = (error: unknown) => {
  const e = error as { code?: unknown; message?: unknown };
  const message = String(e?.message ?? error).replace(/:?\n\s*/g, ": ");
  return typeof e?.code === "string" && !message.includes(e.code) ? `${e.code}: ${message}` : message;
};

/** Runs one start-up step; a failure ends the start with `what` and the error's reason. */
async function step<T>(what: string | null, run: () => T | Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (error) {
    return cannotStart(what ? `${what}: ${reason(error)}` : reason(error));
  }
}

const e = await step(null, () => env());
await step(`the data folder ${e.dataDir} cannot be written; set STUDIO_DATA_DIR to a folder this user can write to`, () => {
  fs.mkdirSync(e.dataDir, { recursive: true });
  // Staging files of interrupted uploads and imports are never resumed: sweep them.
  fs.rmSync(path.join(e.dataDir, "tmp"), { recursive: true, force: true });
  fs.mkdirSync(path.join(e.dataDir, "tmp"), { recursive: true });
});
await step(null, () => ensurePortFree(e.HOST, e.nextPort, e.STUDIO_NEXT_PORT ? "STUDIO_NEXT_PORT" : "PORT", "the web server"));
await step(null, () => ensurePortFree(e.STUDIO_REALTIME_HOST, e.realtimePort, e.STUDIO_REALTIME_PORT ? "STUDIO_REALTIME_PORT" : "PORT (the sidecar uses PORT+1) or STUDIO_REALTIME_PORT", "the realtime sidecar"));

let databaseUrl = e.DATABASE_URL;
if (!databaseUrl) {
  const passwordFile = path.join(e.dataDir, "pg-password");
  if (!fs.existsSync(passwordFile)) fs.writeFileSync(passwordFile, crypto.randomBytes(18).toString("base64url"), { mode: 0o600 });
  log(`starting embedded PostgreSQL in ${path.join(e.dataDir, "pg")} on port ${e.STUDIO_EMBEDDED_PG_PORT}`);
  const server = await step(null, () =>
    startEmbeddedPostgres({
      dir: path.join(e.dataDir, "pg"),
      port: e.STUDIO_EMBEDDED_PG_PORT,
      password: fs.readFileSync(passwordFile, "utf8").trim(),
      onLog: (line) => e.STUDIO_LOG_LEVEL === "debug" && console.log(`[postgres] ${line}`),
    }),
  );
  pg = server;
  server.onUnexpectedExit((how) => {
    if (!stopping) pgRestart ??= restartPostgres(server, how).finally(() => (pgRestart = undefined));
  });
  await step("the embedded PostgreSQL started but the studio database could not be created", () => server.createDatabase("studio"));
  databaseUrl = server.url("studio");
}
process.env.DATABASE_URL = databaseUrl;
resetEnvCache();

await step(e.DATABASE_URL ? `the database migration failed (DATABASE_URL ${new URL(e.DATABASE_URL).host})` : "the database migration failed", () => runMigrations(databaseUrl));
const logDb = connect(databaseUrl, { max: 1 });
let logWriteFailed = false;
logStore.sink = createSystemLogSink(logDb.db, {
  onError: (error) => {
    if (!logWriteFailed) console.error(`[studio] could not store log lines in the database: ${error.message}`);
    logWriteFailed = true;
  },
});
log("database migrated");

await step("the first administrator could not be created", async () => {
  const handle = connect(databaseUrl, { max: 1 });
  const admin = await ensureFirstAdmin(handle.db, e.STUDIO_ADMIN_EMAIL, e.STUDIO_ADMIN_PASSWORD).finally(() => handle.close());
  if (admin) {
    log(`created the first administrator: ${admin.email}`);
    // The terminal only: never into system_logs, which administrators read on the System page.
    if (admin.generated) console.log(`[studio] generated password (shown once, change it or set STUDIO_ADMIN_PASSWORD): ${admin.password}`);
  }
});
await step("the studio secret could not be read or created", () => studioSecret());
// Weights files whose entries went with a deleted project or team while the studio was down or mid-delete.
{
  const handle = connect(databaseUrl, { max: 1 });
  await sweepOrphanWeightsFiles(handle.db)
    .then((removed) => removed.length > 0 && log(`removed ${removed.length} weights file(s) that no library entry names`))
    .catch((error: unknown) => log(`could not sweep the weights folder: ${reason(error)}`))
    .finally(() => handle.close());
}

const buildStamp = path.join(root, ".next", "studio-source-hash");
const sourceHash = hashWebSources();
if (!dev && (!fs.existsSync(path.join(root, ".next", "BUILD_ID")) || readIfExists(buildStamp) !== sourceHash)) {
  log("no production build of the current sources: running next build");
  const build = spawnSync(process.execPath, [path.join(root, "node_modules", "next", "dist", "bin", "next"), "build"], {
    cwd: root,
    stdio: "inherit",
    env: { ...process.env, NEXT_TELEMETRY_DISABLED: "1" },
  });
  if (build.status !== 0) {
    log("next build failed");
    await pg?.stop();
    process.exit(1);
  }
  fs.writeFileSync(buildStamp, sourceHash);
}

interface Supervised {
  name: string;
  args: string[];
  child?: ChildProcess;
  restarts: number;
  startedAt: number;
}

const children: Supervised[] = [
  { name: "web", args: ["workers/web.ts", ...(dev ? ["--dev"] : [])], restarts: 0, startedAt: 0 },
  { name: "worker", args: ["workers/training-worker.ts"], restarts: 0, startedAt: 0 },
  { name: "realtime", args: ["workers/realtime.ts"], restarts: 0, startedAt: 0 },
];
function prefixLines(name: string, stream: NodeJS.ReadableStream | null, kind: "stdout" | "stderr") {
  const out = kind === "stdout" ? process.stdout : process.stderr;
  let buffered = "";
  stream?.on("data", (chunk: Buffer) => {
    buffered += chunk.toString();
    const lines = buffered.split("\n");
    buffered = lines.pop() ?? "";
    for (const line of lines) {
      out.write(line.startsWith("[") ? `${line}\n` : `[${name}] ${line}\n`);
      if (line.trim()) logStore.sink?.add(name, levelOf(kind, line), line);
    }
  });
}

function start(s: Supervised) {
  s.startedAt = Date.now();
  const child = spawn(process.execPath, ["--import", "tsx", ...s.args], {
    cwd: root,
    env: { ...process.env, NEXT_TELEMETRY_DISABLED: "1", NODE_ENV: dev ? "development" : "production", NEXTAUTH_URL: e.origin },
    // The IPC channel lets children notice when the supervisor dies and stop too.
    stdio: ["ignore", "pipe", "pipe", "ipc"],
  });
  s.child = child;
  prefixLines(s.name, child.stdout, "stdout");
  prefixLines(s.name, child.stderr, "stderr");
  child.on("exit", (code, signal) => {
    s.child = undefined;
    if (stopping) return;
    if (code === EXIT_CANNOT_START) {
      // It said why (a port in use, …): restarting would only say it again.
      log(`${s.name} cannot run; stopping the studio`);
      void shutdown(`${s.name} cannot run`, 1);
      return;
    }
    // Back off when a child keeps crashing; forget old crashes once it has run a while.
    if (Date.now() - s.startedAt > 60_000) s.restarts = 0;
    const delay = Math.min(30_000, 1_000 * 2 ** s.restarts++);
    log(`${s.name} exited (${signal ?? `code ${code}`}); restarting in ${delay / 1000} s`);
    setTimeout(() => !stopping && start(s), delay);
  });
}

for (const s of children) start(s);
log(`${dev ? "development" : "production"} studio starting on ${e.origin} (log in as ${e.STUDIO_ADMIN_EMAIL})`);

async function shutdown(signal: string, exitCode = 0) {
  if (stopping) return;
  stopping = true;
  log(`${signal}: stopping children`);
  await Promise.all(
    children.map(
      (s) =>
        new Promise<void>((resolve) => {
          const child = s.child;
          if (!child || child.exitCode !== null) return resolve();
          const kill = setTimeout(() => child.kill("SIGKILL"), 20_000);
          child.once("exit", () => {
            clearTimeout(kill);
            resolve();
          });
          child.kill("SIGTERM");
        }),
    ),
  );
  await logStore.sink?.close();
  await logDb.close();
  if (pg) {
    // A restart under way would otherwise leave a PostgreSQL running behind us.
    await pgRestart?.catch(() => {});
    log("stopping PostgreSQL");
    await pg.stop();
  }
  log("stopped");
  process.exit(exitCode);
}

/** Starts the embedded PostgreSQL again after it died, backing off while it keeps failing. */
async function restartPostgres(server: EmbeddedServer, how: string): Promise<void> {
  for (let attempt = 0; !stopping; attempt++) {
    const delay = Math.min(30_000, 1_000 * 2 ** attempt);
    log(`PostgreSQL ${attempt === 0 ? `exited unexpectedly (${how})` : `did not start (${how})`}; starting it again in ${delay / 1000} s`);
    await new Promise((resolve) => setTimeout(resolve, delay));
    if (stopping) return;
    try {
      await server.restart();
      log("PostgreSQL is running again");
      return;
    } catch (error) {
      how = reason(error);
    }
  }
}

/** Refuses, with the variable to change, a port another program already listens on. */
function ensurePortFree(host: string, port: number, variable: string, user: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const probe = net.createServer();
    probe.once("error", (error: NodeJS.ErrnoException) =>
      reject(
        error.code === "EADDRINUSE"
          ? new Error(`port ${port} on ${host}, for ${user}, is in use by another program (another studio?); stop it or set ${variable} to a free port`)
          : error,
      ),
    );
    probe.listen(port, host, () => probe.close(() => resolve()));
  });
}
// PostgreSQL stops only after every child has exited (db/embedded.ts drops the package's own hooks).
process.on("SIGINT", () => void shutdown("SIGINT"));
process.on("SIGTERM", () => void shutdown("SIGTERM"));
process.on("SIGHUP", () => void shutdown("SIGHUP"));
// If whatever started us dies without passing its signal on, we are re-parented: stop too.
const parentAtStart = process.ppid;
setInterval(() => process.ppid !== parentAtStart && void shutdown("parent process gone"), 1_000).unref();

function readIfExists(file: string): string | null {
  return fs.existsSync(file) ? fs.readFileSync(file, "utf8") : null;
}

/** A hash of everything the web build is made from, so a changed checkout is rebuilt before it is served. */
function hashWebSources(): string {
  const hash = crypto.createHash("sha256");
  const visit = (entry: string) => {
    const full = path.join(root, entry);
    if (!fs.existsSync(full)) return;
    if (fs.statSync(full).isDirectory()) {
      for (const child of fs.readdirSync(full).sort()) visit(path.join(entry, child));
    } else if (/\.(tsx?|css|json|sql)$/.test(entry) && !entry.endsWith(".test.ts")) {
      hash.update(entry).update(fs.readFileSync(full));
    }
  };
  for (const entry of ["app", "components", "server", "db", "public", "next.config.ts", "package-lock.json", "tsconfig.json"]) visit(entry);
  return hash.digest("hex");
}
