import type { WebSocket } from "ws";
import { NotFound } from "@/server/errors";
import type { StudioEvent } from "@/server/events/types";
import type { WsRouteHandler } from "@/server/realtime/ws-routes";
import type { Ctx } from "@/server/context";
import { SAMPLE_STALE_MS, latestSample } from "@/server/system/samples";
import { assertKnownHost, busiestHost, hostStatsOf, type HostStats, type SampleFacts } from "@/server/system/stats";

type SampleEvent = Extract<StudioEvent, { type: "system.sample" }>;
type Figures = Pick<SampleFacts, "cpuPercent" | "diskUsed" | "diskTotal" | "gpus">;

/** The §3.1 packet: exactly the document's fields. */
export function systemStatsPacket(stats: HostStats, ping: number | null): string {
  return JSON.stringify({ type: "system_stats", data: { ...stats, ping } });
}

interface Listener {
  socket: WebSocket;
  /** null: the busiest training host, re-chosen as the fleet changes. */
  host: string | null;
  pingMs: number | null;
  pingSentAt: number;
}

/** How often the default host (the busiest) is chosen again. */
const BUSIEST_REFRESH_MS = 10_000;

/**
 * One 1 Hz ticker for every `/ws/system` connection of this sidecar: each tick sends every listener
 * its host's newest sample, which arrives on the event bus (`system.sample`). A host whose newest
 * sample is older than SAMPLE_STALE_MS gets nulls, never its old figures as current ones.
 */
export function createSystemFeed(options: { intervalMs?: number; now?: () => number } = {}) {
  const intervalMs = options.intervalMs ?? 1000;
  const now = options.now ?? Date.now;
  const latest = new Map<string, { figures: Figures; receivedAt: number }>();
  const listeners = new Set<Listener>();
  let db: Ctx["db"] | undefined;
  let busiest: { host: string | null; at: number; pending?: Promise<void> } = { host: null, at: -Infinity };
  let timer: NodeJS.Timeout | undefined;
  let ticks = 0;

  const refreshBusiest = () => {
    if (!db || busiest.pending || now() - busiest.at < BUSIEST_REFRESH_MS) return;
    busiest.pending = busiestHost(db)
      .then((host) => void (busiest = { host, at: now() }))
      .catch((error: Error) => {
        console.error(`[/ws/system] choosing the busiest host: ${error.message}`);
        busiest = { ...busiest, pending: undefined };
      });
  };

  const figuresOf = (host: string | null): Figures | null => {
    const entry = host === null ? undefined : latest.get(host);
    return entry && now() - entry.receivedAt <= SAMPLE_STALE_MS ? entry.figures : null;
  };

  const tick = () => {
    ticks++;
    if ([...listeners].some((l) => l.host === null)) refreshBusiest();
    for (const listener of listeners) {
      const { socket } = listener;
      if (socket.readyState !== socket.OPEN) continue;
      socket.send(systemStatsPacket(hostStatsOf(figuresOf(listener.host ?? busiest.host)), listener.pingMs));
      listener.pingSentAt = now();
      socket.ping();
    }
  };

  return {
    get ticks() {
      return ticks;
    },
    /** A sample from the bus (or read at connect): the newest per host wins. */
    update(host: string, figures: Figures, sampledAgoMs = 0) {
      const receivedAt = now() - sampledAgoMs;
      const current = latest.get(host);
      if (!current || current.receivedAt <= receivedAt) latest.set(host, { figures, receivedAt });
    },
    async add(socket: WebSocket, host: string | null, database: Ctx["db"]): Promise<void> {
      db = database;
      const listener: Listener = { socket, host, pingMs: null, pingSentAt: 0 };
      socket.on("pong", () => (listener.pingMs = now() - listener.pingSentAt));
      socket.on("close", () => {
        listeners.delete(listener);
        if (listeners.size === 0) {
          clearInterval(timer);
          timer = undefined;
        }
      });
      // The first packet already carries the newest sample, not nulls until the next event.
      if (host === null && !busiest.pending) refreshBusiest();
      await busiest.pending;
      const target = host ?? busiest.host;
      const sample = target === null ? null : await latestSample(database, target);
      if (sample && target) this.update(target, sample, sample.ageMs);
      if (socket.readyState !== socket.OPEN) return;
      listeners.add(listener);
      timer ??= setInterval(tick, intervalMs);
    },
  };
}

const feed = createSystemFeed();

function isSampleEvent(event: StudioEvent): event is SampleEvent {
  return event.type === "system.sample";
}

/**
 * `/ws/system` (seed 002 §3.1): `{type: "system_stats", data: {gpu_util, gpu_temp, vram_used,
 * vram_total, cpu_load, disk_usage, ping}}` once a second, for `?host=` or the busiest training host;
 * `ping` is this connection's last round trip in ms. An unknown host closes with 4404.
 */
export const systemStatsRoute: WsRouteHandler = async (socket, { query, db, onEvent }) => {
  const host = query.get("host");
  if (host !== null) {
    try {
      await assertKnownHost(db, host);
    } catch (error) {
      if (error instanceof NotFound) return socket.close(4404, error.message.slice(0, 120));
      throw error;
    }
  }
  onEvent((event) => {
    if (isSampleEvent(event)) feed.update(event.host, event);
  });
  await feed.add(socket, host, db);
};
