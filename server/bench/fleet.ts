import { spawn, type ChildProcess } from "node:child_process";
import crypto from "node:crypto";
import fs from "node:fs/promises";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import WebSocket from "ws";
import { connect } from "@/db/client";
import { startEmbeddedPostgres } from "@/db/embedded";
import { runMigrations } from "@/db/migrate";
import { ctxFor, seedTeam, seedUser } from "@/db/testing/fixtures";
import { createApiKey } from "@/server/auth/api-keys";

/**
 * `npm run bench:fleet`: (1) the host sampler's CPU cost — its own process, as a training worker runs
 * it, sampling this host once a second into PostgreSQL and onto the event bus: % of one core over
 * 30 s, `df` children included; (2) /ws/system with 200 clients on a realtime sidecar process for
 * 30 s: packets per client, missed ticks (gaps over 1.5 s), how long one tick takes to reach all
 * 200 (fan-out), the round trip each connection measures (`ping`), and the sidecar's CPU.
 * Prints one JSON line per figure.
 */
const CLIENTS = Number(process.env.BENCH_CLIENTS ?? 200);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 30);
const ROOT = path.resolve(import.meta.dirname, "../..");

const freePort = () =>
  new Promise<number>((resolve, reject) => {
    const server = net.createServer().listen(0, "127.0.0.1", () => {
      const port = (server.address() as net.AddressInfo).port;
      server.close(() => resolve(port));
    });
    server.on("error", reject);
  });
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const percentile = (values: number[], p: number) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] : null;
};

/** CPU seconds of a process and its waited-for children (Linux /proc; USER_HZ = 100). */
async function cpuSeconds(pid: number): Promise<number> {
  const stat = await fs.readFile(`/proc/${pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ").map(Number);
  return (fields[11] + fields[12] + fields[13] + fields[14]) / 100;
}

async function cpuPercentOver(pid: number, seconds: number): Promise<number> {
  const [cpu0, t0] = [await cpuSeconds(pid), performance.now()];
  await sleep(seconds * 1000);
  const [cpu1, t1] = [await cpuSeconds(pid), performance.now()];
  return +(((cpu1 - cpu0) / ((t1 - t0) / 1000)) * 100).toFixed(2);
}

function start(args: string[], env: Record<string, string> = {}): ChildProcess {
  const child = spawn(process.execPath, ["--import", "tsx", ...args], { cwd: ROOT, env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "inherit"] });
  child.stdout!.setEncoding("utf8");
  return child;
}
const lineFrom = (child: ChildProcess, pattern: RegExp) =>
  new Promise<string>((resolve, reject) => {
    let buffered = "";
    child.stdout!.on("data", (chunk: string) => {
      buffered += chunk;
      const line = buffered.split("\n").find((l) => pattern.test(l));
      if (line) resolve(line);
    });
    child.once("exit", (code) => reject(new Error(`${child.spawnargs.join(" ")} exited with ${code}`)));
  });

const work = await fs.mkdtemp(path.join(os.tmpdir(), "bench-fleet-"));
const pg = await startEmbeddedPostgres({ dir: path.join(work, "pg"), port: await freePort(), password: "bench" });
const children: ChildProcess[] = [];
try {
  await pg.createDatabase("bench");
  const url = pg.url("bench");
  await runMigrations(url);
  const handle = connect(url, { max: 2 });
  const team = await seedTeam(handle.db, "Bench");
  const user = await seedUser(handle.db, { email: "bench@x.io", teams: [{ teamId: team.id, role: "member" }] });
  const { key } = await createApiKey(await ctxFor(handle.db, user.id, team.id), { name: "bench" });

  const sampler = start(["server/bench/fleet-sampler.ts", url]);
  children.push(sampler);
  await lineFrom(sampler, /^ready$/);
  await sleep(5000);
  console.log(JSON.stringify({ figure: "sampler_cpu_percent_of_one_core", value: await cpuPercentOver(sampler.pid!, SECONDS), seconds: SECONDS, host_cores: os.availableParallelism(), note: "systeminformation CPU/memory/network each second, fsSize (df) every 30 s, nvidia-smi absent here, one INSERT + NOTIFY per second" }));

  const port = await freePort();
  const realtime = start(["workers/realtime.ts"], {
    DATABASE_URL: url,
    STUDIO_REALTIME_PORT: String(port),
    STUDIO_ORIGIN: `http://localhost:${port - 1}`,
    STUDIO_DATA_DIR: work,
    STUDIO_SECRET: crypto.randomBytes(32).toString("hex"),
  });
  children.push(realtime);
  await lineFrom(realtime, /listening on/);

  const arrivals: number[][] = Array.from({ length: CLIENTS }, () => []);
  const pings: number[] = [];
  let withFigures = 0;
  const sockets: WebSocket[] = [];
  await Promise.all(
    arrivals.map(
      (times, i) =>
        new Promise<void>((resolve, reject) => {
          const socket = new WebSocket(`ws://127.0.0.1:${port}/ws/system`, { headers: { authorization: `Bearer ${key}` } });
          sockets[i] = socket;
          socket.on("open", () => resolve());
          socket.on("error", reject);
          socket.on("message", (raw) => {
            times.push(performance.now());
            const { data } = JSON.parse(raw.toString()) as { data: { ping: number | null; cpu_load: number | null } };
            if (data.ping !== null) pings.push(data.ping);
            if (data.cpu_load !== null) withFigures++;
          });
        }),
    ),
  );
  const cpu = cpuPercentOver(realtime.pid!, SECONDS);
  const samplerDuring = cpuPercentOver(sampler.pid!, SECONDS);
  const from = performance.now();
  await sleep(SECONDS * 1000);
  const to = performance.now();
  const within = arrivals.map((times) => times.filter((t) => t >= from && t <= to));
  const packets = within.map((t) => t.length);
  const missed = within.map((times) => times.slice(1).reduce((sum, t, i) => sum + Math.max(0, Math.round((t - times[i]) / 1000) - 1), 0));
  // A tick reaches every client within a few ms: packets closer than 300 ms belong to one tick.
  const all = within.flat().sort((a, b) => a - b);
  const spreads: number[] = [];
  let tickStart = all[0];
  for (let i = 1; i <= all.length; i++) {
    if (i === all.length || all[i] - all[i - 1] > 300) {
      spreads.push(all[i - 1] - tickStart);
      tickStart = all[i];
    }
  }
  const gaps = within.flatMap((times) => times.slice(1).map((t, i) => t - times[i]));
  console.log(
    JSON.stringify({
      figure: "ws_system_200_clients",
      clients: CLIENTS,
      seconds: SECONDS,
      packets_per_client_min: Math.min(...packets),
      packets_per_client_max: Math.max(...packets),
      packets_with_figures_share: +(withFigures / Math.max(1, arrivals.flat().length)).toFixed(3),
      missed_ticks_total: missed.reduce((a, b) => a + b, 0),
      clients_missing_ticks: missed.filter((m) => m > 0).length,
      interval_ms_p50: percentile(gaps, 50),
      interval_ms_p99: percentile(gaps, 99),
      fanout_ms_p50: percentile(spreads, 50),
      fanout_ms_max: Math.max(...spreads),
      ping_ms_p50: percentile(pings, 50),
      ping_ms_p99: percentile(pings, 99),
      sidecar_cpu_percent_of_one_core: await cpu,
      sampler_cpu_percent_meanwhile: await samplerDuring,
    }),
  );
  sockets.forEach((s) => s.close());
  await handle.close();
} finally {
  for (const child of children) {
    child.kill("SIGTERM");
    await new Promise((resolve) => (child.exitCode !== null ? resolve(null) : child.once("exit", resolve)));
  }
  await pg.stop();
  await fs.rm(work, { recursive: true, force: true });
}
