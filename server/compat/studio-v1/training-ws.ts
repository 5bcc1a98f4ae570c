import { and, asc, eq, gt, sql } from "drizzle-orm";
import { experimentLogs, experimentMetrics } from "@/db/schema";
import type { Ctx } from "@/server/context";
import { NotFound } from "@/server/errors";
import { getExperiment, getExperimentLogs } from "@/server/experiments/queries";
import type { WsRouteHandler } from "@/server/realtime/ws-routes";
import { parseStudioV1Id, studioV1LogPacket, studioV1MetricsPacket, studioV1StatusPacket, type StudioV1TrainingPacket } from "./mapper";

const PAGE = 500;

/**
 * `/ws/training/{experiment_id}` (seed 002 §3.2): `log`, `metrics_update` and `status_change`
 * packets. Everything sent is read from the tables; bus events only say when to look, and a
 * periodic look covers events lost while the sidecar's listen connection was down.
 * `?since=<seq>` first resends the log lines after that sequence number, and the epochs' metrics
 * written after that line was (an epoch the client already had may come again: packets carry their
 * epoch); without it the stream starts with what happens next. Every connection gets the current
 * status after any replay.
 */
export function createTrainingWsRoute(options: { resyncMs?: number } = {}): WsRouteHandler {
  const resyncMs = options.resyncMs ?? 2000;
  return async (socket, { caller, params, query, db, onEvent }) => {
    const ctx: Ctx = { db, caller };
    const since = query.get("since");
    if (since !== null && !/^\d+$/.test(since)) return socket.close(4400, "since must be a log sequence number");
    let id: number;
    let experiment;
    try {
      id = parseStudioV1Id(params.id, "Experiment");
      experiment = await getExperiment(ctx, id);
    } catch (error) {
      if (error instanceof NotFound) return socket.close(4404, error.message.slice(0, 120));
      throw error;
    }
    const topic = `experiment:${id}`;

    let lastSeq = since === null ? experiment.logSeq : Number(since);
    let metricsAfter = await metricsStart(ctx, id, since === null ? null : Number(since));
    let lastStatus: string | null = null;

    const send = (packet: StudioV1TrainingPacket) => {
      if (socket.readyState === socket.OPEN) socket.send(JSON.stringify(packet));
    };

    const syncOnce = async () => {
      for (;;) {
        const logs = await getExperimentLogs(ctx, { id, since: lastSeq, limit: PAGE });
        for (const log of logs) {
          send(studioV1LogPacket(log));
          lastSeq = log.seq;
        }
        if (logs.length < PAGE) break;
      }
      const points = await db
        .select({ epoch: experimentMetrics.epoch, values: experimentMetrics.values, createdAt: sql<string>`${experimentMetrics.createdAt}::text` })
        .from(experimentMetrics)
        .where(and(eq(experimentMetrics.experimentId, id), eq(experimentMetrics.step, 0), gt(experimentMetrics.createdAt, sql`${metricsAfter}::timestamptz`)))
        .orderBy(asc(experimentMetrics.createdAt), asc(experimentMetrics.epoch));
      for (const point of points) {
        send(studioV1MetricsPacket(point));
        metricsAfter = point.createdAt;
      }
      const current = await getExperiment(ctx, id);
      if (current.status !== lastStatus) {
        send(studioV1StatusPacket(current));
        lastStatus = current.status;
      }
    };

    // One look at a time; a hint arriving meanwhile asks for one more look afterwards.
    let running: Promise<void> | null = null;
    let again = false;
    let closed = false;
    const sync = () => {
      if (closed) return;
      if (running) {
        again = true;
        return;
      }
      running = syncOnce()
        .catch((error: Error) => {
          if (error instanceof NotFound) socket.close(4404, `experiment ${id} was deleted`);
          else console.error(`[ws /ws/training/${id}] ${error.message}`);
        })
        .finally(() => {
          running = null;
          if (again) {
            again = false;
            sync();
          }
        });
    };

    onEvent((event) => {
      if (event.topic === topic && event.teamId === caller.teamId) sync();
    });
    const timer = setInterval(sync, resyncMs);
    socket.on("close", () => {
      closed = true;
      clearInterval(timer);
    });
    sync();
  };
}

/**
 * Metrics written after this time are sent: after the `since` line was written, from the
 * beginning for since=0, else from now on (the newest point already written).
 */
async function metricsStart(ctx: Ctx, id: number, since: number | null): Promise<string> {
  if (since === 0) return "-infinity";
  if (since !== null) {
    const [line] = await ctx.db
      .select({ at: sql<string>`${experimentLogs.at}::text` })
      .from(experimentLogs)
      .where(and(eq(experimentLogs.experimentId, id), eq(experimentLogs.seq, since)));
    if (line) return line.at;
    return "-infinity";
  }
  const [newest] = await ctx.db
    .select({ at: sql<string | null>`max(${experimentMetrics.createdAt})::text` })
    .from(experimentMetrics)
    .where(and(eq(experimentMetrics.experimentId, id), eq(experimentMetrics.step, 0)));
  return newest?.at ?? "-infinity";
}

export const trainingWsRoute = createTrainingWsRoute();
