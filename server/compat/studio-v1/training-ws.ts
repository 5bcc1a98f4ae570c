import type { Ctx } from "@/server/context";
import { NotFound } from "@/server/errors";
import { watchWith } from "@/server/events/topic-wakeups";
import { followExperiment } from "@/server/experiments/follow";
import { getExperiment } from "@/server/experiments/queries";
import type { WsRouteHandler } from "@/server/realtime/ws-routes";
import { parseStudioV1Id, studioV1LogPacket, studioV1MetricsPacket, studioV1StatusPacket, type StudioV1TrainingPacket } from "./mapper";

/**
 * `/ws/training/{experiment_id}` (seed 002 §3.2): `log`, `metrics_update` and `status_change`
 * packets, from the experiment follower: everything sent is read from the tables; the sidecar's
 * events only say when to look, and a periodic look covers events lost while its listen connection
 * was down. `?since=<seq>` first resends the log lines after that sequence number, and the epochs'
 * metrics written after that line was (an epoch the client already had may come again: packets
 * carry their epoch); without it the stream starts with what happens next. Every connection gets
 * the current status after any replay.
 */
function createTrainingWsRoute(options: { resyncMs?: number } = {}): WsRouteHandler {
  const resyncMs = options.resyncMs ?? 2000;
  return async (socket, { caller, params, query, db, onEvent }) => {
    const ctx: Ctx = { db, caller };
    const since = query.get("since");
    if (since !== null && !/^\d+$/.test(since)) return socket.close(4400, "since must be a log sequence number");
    let id: number;
    try {
      id = parseStudioV1Id(params.id, "Experiment");
      await getExperiment(ctx, id);
    } catch (error) {
      if (error instanceof NotFound) return socket.close(4404, error.message.slice(0, 120));
      throw error;
    }

    const closed = new AbortController();
    socket.on("close", () => closed.abort());
    const send = (packet: StudioV1TrainingPacket) => {
      if (socket.readyState === socket.OPEN) socket.send(JSON.stringify(packet));
    };
    const watch = async (topic: string) => watchWith((wake) => onEvent((event) => event.topic === topic && event.teamId === caller.teamId && wake()));
    let after = since === null ? undefined : Number(since);
    let lastStatus: string | null = null;
    while (!closed.signal.aborted) {
      try {
        for await (const item of followExperiment(ctx, id, { since: after, metrics: true, watch, idleCheckMs: resyncMs, signal: closed.signal })) {
          if (item.type === "log") {
            send(studioV1LogPacket(item.log));
            after = item.log.seq;
          } else if (item.type === "metrics") send(studioV1MetricsPacket(item.point));
          else if (item.type === "status" && item.experiment.status !== lastStatus) {
            send(studioV1StatusPacket(item.experiment));
            lastStatus = item.experiment.status;
          } else if (item.type === "caught-up") after ??= item.experiment.logSeq;
        }
      } catch (error) {
        if (error instanceof NotFound) return socket.close(4404, `experiment ${id} was deleted`);
        if (closed.signal.aborted) return;
        // A database hiccup: follow on from the last line sent once the next look is due.
        console.error(`[ws /ws/training/${id}] ${(error as Error).message}`);
        await new Promise((resolve) => setTimeout(resolve, resyncMs));
      }
    }
  };
}

export const trainingWsRoute = createTrainingWsRoute();
