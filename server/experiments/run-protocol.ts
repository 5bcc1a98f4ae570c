/** What the worker hands the run's child process (workers/run-experiment.ts), as JSON. */
export interface RunProcessOptions {
  databaseUrl: string;
  experimentId: number;
  leaseToken: string;
  attempt: number;
  teamId: number;
  /** Storage root; runs go to <dataDir>/runs/<project>/<experiment>/. */
  dataDir: string;
  /** How often the run process reads pause/stop requests (the worker beats the heartbeat). */
  heartbeatMs: number;
  /** STUDIO_ALLOW_COMMANDS on the worker's host: external-command runs are refused without it. */
  allowCommands: boolean;
  /** How long to wait for a dataset that is still importing. */
  datasetWaitMs?: number;
}

/** Exit codes the worker reads: the attempt ended with its final status written / lost its lease / failed in a way worth retrying. */
export const RUN_EXIT = { finished: 0, retry: 1, leaseLost: 75 } as const;

/**
 * What the worker and a started run process say over IPC: the worker pings, the run answers, and
 * reports each step it finishes. A run that does neither for the stall limit is taken as hung.
 */
export type WorkerToRun = { type: "ping" };
export type RunToWorker = { type: "pong" } | { type: "progress" };
