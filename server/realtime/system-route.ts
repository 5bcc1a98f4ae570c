import type { WebSocket } from "ws";
import { createHostStatsSampler, type HostStats } from "@/server/system/stats";
import type { WsRouteHandler } from "./ws-routes";

type StatsListener = (stats: HostStats) => void;

/**
 * One 1 Hz sampler shared by every `/ws/system` connection (CPU use is a delta between samples,
 * so connections must not each sample), running only while someone listens.
 */
function createStatsTicker(dataDir: string) {
  const listeners = new Set<StatsListener>();
  let timer: NodeJS.Timeout | undefined;
  const sampler = createHostStatsSampler(dataDir);
  const tick = async () => {
    const stats = await sampler.sample();
    for (const listener of listeners) listener(stats);
  };
  return {
    add(listener: StatsListener): () => void {
      listeners.add(listener);
      timer ??= setInterval(() => void tick(), 1000);
      return () => {
        listeners.delete(listener);
        if (listeners.size === 0) {
          clearInterval(timer);
          timer = undefined;
        }
      };
    },
  };
}

const tickers = new Map<string, ReturnType<typeof createStatsTicker>>();

/** `/ws/system` (seed 002 §3.1): `{type:"system_stats", data:{…}}` every second; `ping` is this connection's last round trip in ms. */
export const systemStatsRoute: WsRouteHandler = (socket: WebSocket, { dataDir }) => {
  let ticker = tickers.get(dataDir);
  if (!ticker) tickers.set(dataDir, (ticker = createStatsTicker(dataDir)));
  let pingMs: number | null = null;
  let pingSentAt = 0;
  socket.on("pong", () => {
    pingMs = Date.now() - pingSentAt;
  });
  const remove = ticker.add((stats) => {
    if (socket.readyState !== socket.OPEN) return;
    socket.send(JSON.stringify({ type: "system_stats", data: { ...stats, ping: pingMs } }));
    pingSentAt = Date.now();
    socket.ping();
  });
  socket.on("close", remove);
};
