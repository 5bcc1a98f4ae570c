import { and, asc, desc, eq, gt, ilike, inArray, sql, type SQL } from "drizzle-orm";
import type { z } from "zod";
import type { DbOrTx } from "@/db/client";
import { architectures, datasets, experimentLogs, experimentMetrics, experiments, isExperimentIn, projects, runningExperimentStatuses } from "@/db/schema";
import type { Ctx } from "@/server/context";
import { NotFound } from "@/server/errors";
import { queuePlaces, type QueuePlace } from "./queue-order";
import type { listExperimentsInput } from "./schemas";

export type ExperimentRow = typeof experiments.$inferSelect;

/** What every face shows of an experiment: the row without its lease secret, plus names, queue position and ETA. */
export interface ExperimentView extends Omit<ExperimentRow, "leaseToken"> {
  projectName: string;
  datasetName: string | null;
  architectureName: string | null;
  /** 1 = next to run; null unless queued. The queue is shared by every team's experiments. */
  queuePosition: number | null;
  /** Seconds to the end at the current pace; null unless running with at least one epoch timed. */
  etaSeconds: number | null;
}

const viewColumns = {
  experiment: experiments,
  projectName: projects.name,
  datasetName: datasets.name,
  architectureName: architectures.name,
};

/** Queue places, read only when some of the rows wait in the queue. */
async function placesFor(db: DbOrTx, rows: { experiment: ExperimentRow }[]): Promise<Map<number, QueuePlace>> {
  return rows.some((row) => row.experiment.status === "queued") ? queuePlaces(db) : new Map();
}

function toView(row: { experiment: ExperimentRow; projectName: string; datasetName: string | null; architectureName: string | null }, places: Map<number, QueuePlace>): ExperimentView {
  const { leaseToken: _secret, ...experiment } = row.experiment;
  void _secret;
  const remainingEpochs = experiment.totalEpochs * (1 - experiment.progress / 100);
  const etaSeconds =
    isExperimentIn(experiment.status, runningExperimentStatuses) && experiment.epochSeconds ? Math.round(remainingEpochs * experiment.epochSeconds) : null;
  return { ...experiment, projectName: row.projectName, datasetName: row.datasetName, architectureName: row.architectureName, queuePosition: places.get(experiment.id)?.position ?? null, etaSeconds };
}

function views(db: DbOrTx) {
  return db
    .select(viewColumns)
    .from(experiments)
    .innerJoin(projects, eq(projects.id, experiments.projectId))
    .leftJoin(datasets, eq(datasets.id, experiments.datasetId))
    .leftJoin(architectures, eq(architectures.id, experiments.architectureId));
}

function selectViews(ctx: Ctx, where: SQL | undefined) {
  return views(ctx.db).where(and(eq(projects.teamId, ctx.caller.teamId), where));
}

const prepareViewById = (db: DbOrTx) =>
  views(db)
    .where(and(eq(projects.teamId, sql.placeholder("teamId")), eq(experiments.id, sql.placeholder("id"))))
    .prepare("experiment_view_by_id");

// Old clients poll one experiment hard: building this query costs ~0.5 ms of CPU, so it is built
// once per database handle (a transaction builds its own).
const viewByIdStatements = new WeakMap<DbOrTx, ReturnType<typeof prepareViewById>>();

/** The caller's team's experiment, or NotFound. */
export async function getExperiment(ctx: Ctx, id: number): Promise<ExperimentView> {
  let statement = viewByIdStatements.get(ctx.db);
  if (!statement) viewByIdStatements.set(ctx.db, (statement = prepareViewById(ctx.db)));
  const [row] = await statement.execute({ teamId: ctx.caller.teamId, id });
  if (!row) throw new NotFound(`Experiment ${id} not found`);
  return toView(row, await placesFor(ctx.db, [row]));
}

export async function listExperiments(ctx: Ctx, input: z.input<typeof listExperimentsInput> = {}): Promise<ExperimentView[]> {
  const filters: SQL[] = [];
  if (input.projectId) filters.push(eq(experiments.projectId, input.projectId));
  if (input.status) filters.push(eq(experiments.status, input.status));
  if (input.search) filters.push(ilike(experiments.name, `%${input.search.replace(/[\\%_]/g, (c) => `\\${c}`)}%`));
  const order = input.sortByMetric
    ? [sql`(${experiments.bestMetrics} ->> ${input.sortByMetric})::float8 desc nulls last`, desc(experiments.id)]
    : [desc(experiments.id)];
  const rows = await selectViews(ctx, filters.length > 0 ? and(...filters) : undefined)
    .orderBy(...order)
    .limit(input.limit ?? 200);
  const places = await placesFor(ctx.db, rows);
  return rows.map((row) => toView(row, places));
}

export interface MetricPoint {
  epoch: number;
  step: number;
  values: Record<string, number>;
}

/** Every metrics point, oldest first: step 0 rows are per-epoch metrics, the rest running losses. */
export async function getExperimentMetrics(ctx: Ctx, id: number): Promise<MetricPoint[]> {
  await getExperiment(ctx, id);
  return ctx.db
    .select({ epoch: experimentMetrics.epoch, step: experimentMetrics.step, values: experimentMetrics.values })
    .from(experimentMetrics)
    .where(eq(experimentMetrics.experimentId, id))
    .orderBy(asc(experimentMetrics.epoch), asc(experimentMetrics.step));
}

export type MetricRow = typeof experimentMetrics.$inferSelect;

/** The per-epoch metrics rows (step 0) with the time each was written, oldest epoch first. */
export async function getEpochMetrics(ctx: Ctx, id: number): Promise<MetricRow[]> {
  await getExperiment(ctx, id);
  return ctx.db
    .select()
    .from(experimentMetrics)
    .where(and(eq(experimentMetrics.experimentId, id), eq(experimentMetrics.step, 0)))
    .orderBy(asc(experimentMetrics.epoch));
}

export type LogRow = typeof experimentLogs.$inferSelect;

/** The stage of the run's latest log line (null before any), by its unique (experiment, seq) key: clients poll this hard. */
export async function latestLogStage(ctx: Ctx, experiment: Pick<ExperimentView, "id" | "logSeq">): Promise<LogRow["stage"] | null> {
  if (experiment.logSeq === 0) return null;
  const [latest] = await ctx.db
    .select({ stage: experimentLogs.stage })
    .from(experimentLogs)
    .innerJoin(experiments, eq(experiments.id, experimentLogs.experimentId))
    .innerJoin(projects, eq(projects.id, experiments.projectId))
    .where(and(eq(experimentLogs.experimentId, experiment.id), eq(experimentLogs.seq, experiment.logSeq), eq(projects.teamId, ctx.caller.teamId)));
  return latest?.stage ?? null;
}

/** Log lines after sequence number `since`, oldest first. */
export async function getExperimentLogs(ctx: Ctx, input: { id: number; since?: number; limit?: number }): Promise<LogRow[]> {
  await getExperiment(ctx, input.id);
  return ctx.db
    .select()
    .from(experimentLogs)
    .where(and(eq(experimentLogs.experimentId, input.id), gt(experimentLogs.seq, input.since ?? 0)))
    .orderBy(asc(experimentLogs.seq))
    .limit(input.limit ?? 1000);
}

/** Several experiments side by side: their views and per-epoch metrics, for the compare page. */
export async function compareExperiments(ctx: Ctx, ids: number[]) {
  const views = await selectViews(ctx, inArray(experiments.id, ids));
  if (views.length !== new Set(ids).size) {
    const found = new Set(views.map((v) => v.experiment.id));
    throw new NotFound(`Experiment ${ids.find((id) => !found.has(id))} not found`);
  }
  const points = await ctx.db
    .select({ experimentId: experimentMetrics.experimentId, epoch: experimentMetrics.epoch, values: experimentMetrics.values })
    .from(experimentMetrics)
    .where(and(inArray(experimentMetrics.experimentId, ids), eq(experimentMetrics.step, 0)))
    .orderBy(asc(experimentMetrics.epoch));
  const places = await placesFor(ctx.db, views);
  return ids.map((id) => {
    const view = toView(views.find((v) => v.experiment.id === id)!, places);
    return { experiment: view, epochs: points.filter((p) => p.experimentId === id).map(({ epoch, values }) => ({ epoch, values })) };
  });
}
