import { getDb } from "@/db/client";
import { env } from "@/server/env";
import { startRealtimeServer } from "@/server/realtime/server";
import { EXIT_CANNOT_START } from "./exit-codes";

/** The realtime sidecar: socket.io and /ws/ endpoints fed by the event bus (logic in server/realtime/). */
const { db, close } = getDb();
const server = await startRealtimeServer({
  db,
  databaseUrl: env().DATABASE_URL!,
  port: env().realtimePort,
  host: env().STUDIO_REALTIME_HOST,
  origin: env().origin,
  dataDir: env().dataDir,
}).catch((error: NodeJS.ErrnoException) => {
  const problem = error.code === "EADDRINUSE" ? "the port is in use by another program; stop it or set STUDIO_REALTIME_PORT to a free port" : error.message;
  console.error(`[realtime] cannot start on ${env().STUDIO_REALTIME_HOST}:${env().realtimePort}: ${problem}`);
  process.exit(EXIT_CANNOT_START);
});
console.log(`[realtime] listening on ${env().STUDIO_REALTIME_HOST}:${server.port}`);

let stopping = false;
async function shutdown(signal: string) {
  if (stopping) return;
  stopping = true;
  console.log(`[realtime] ${signal}: closing ${server.connections()} connection(s)`);
  try {
    await server.close();
    await close();
    process.exit(0);
  } catch (error) {
    console.error(`[realtime] unclean shutdown: ${(error as Error).message}`);
    process.exit(1);
  }
}
process.on("SIGTERM", () => void shutdown("SIGTERM"));
process.on("SIGINT", () => void shutdown("SIGINT"));
