import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { startEmbeddedPostgres, type EmbeddedServer } from "@/db/embedded";
import { connect } from "@/db/client";
import { runMigrations } from "@/db/migrate";
import { ensureFirstAdmin } from "@/server/auth/users";
import { studioSecret } from "@/server/auth/secret";
import { createSystemLogSink, levelOf, type SystemLogSink } from "@/server/system/logs";
import { env, resetEnvCache } from "@/server/env";

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

const e = env();
fs.mkdirSync(e.dataDir, { recursive: true });
// Staging files of interrupted uploads and imports are never resumed: sweep them.
fs.rmSync(path.join(e.dataDir, "tmp"), { recursive: true, force: true });
fs.mkdirSync(path.join(e.dataDir, "tmp"), { recursive: true });

let pg: EmbeddedServer | undefined;
let databaseUrl = e.DATABASE_URL;
if (!databaseUrl) {
  const passwordFile = path.join(e.dataDir, "pg-password");
  if (!fs.existsSync(passwordFile)) fs.writeFileSync(passwordFile, crypto.randomBytes(18).toString("base64url"), { mode: 0o600 });
  log(`starting embedded PostgreSQL in ${path.join(e.dataDir, "pg")} on port ${e.STUDIO_EMBEDDED_PG_PORT}`);
  pg = await startEmbeddedPostgres({
    dir: path.join(e.dataDir, "pg"),
    port: e.STUDIO_EMBEDDED_PG_PORT,
    password: fs.readFileSync(passwordFile, "utf8").trim(),
    onLog: (line) => e.STUDIO_LOG_LEVEL === "debug" && console.log(`[postgres] ${line}`),
  });
  await pg.createDatabase("studio");
  databaseUrl = pg.url("studio");
}
process.env.DATABASE_URL = databaseUrl;
resetEnvCache();

await runMigrations(databaseUrl);
const logDb = connect(databaseUrl, { max: 1 });
let logWriteFailed = false;
logStore.sink = createSystemLogSink(logDb.db, {
  onError: (error) => {
    if (!logWriteFailed) console.error(`[studio] could not store log lines in the database: ${error.message}`);
    logWriteFailed = true;
  },
});
log("database migrated");

{
  const handle = connect(databaseUrl, { max: 1 });
  const admin = await ensureFirstAdmin(handle.db, e.STUDIO_ADMIN_EMAIL, e.STUDIO_ADMIN_PASSWORD);
  await handle.close();
  if (admin) {
    log(`created the first administrator: ${admin.email}`);
    // The terminal only: never into system_logs, which administrators read on the System page.
    if (admin.generated) console.log(`[studio] generated password (shown once, change it or set STUDIO_ADMIN_PASSWORD): ${admin.password}`);
  }
}
studioSecret();

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
let stopping = false;

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
    // Back off when a child keeps crashing; forget old crashes once it has run a while.
    if (Date.now() - s.startedAt > 60_000) s.restarts = 0;
    const delay = Math.min(30_000, 1_000 * 2 ** s.restarts++);
    log(`${s.name} exited (${signal ?? `code ${code}`}); restarting in ${delay / 1000} s`);
    setTimeout(() => !stopping && start(s), delay);
  });
}

for (const s of children) start(s);
log(`${dev ? "development" : "production"} studio starting on ${e.origin} (log in as ${e.STUDIO_ADMIN_EMAIL})`);

async function shutdown(signal: string) {
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
    log("stopping PostgreSQL");
    await pg.stop();
  }
  log("stopped");
  process.exit(0);
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
