import { z } from "zod";

/**
 * Live events: compact hints sent over PostgreSQL NOTIFY. The tables are the truth; a client that
 * missed events asks for them again by sequence number (see server/realtime/topics.ts, `replay`).
 *
 * A topic names what an event is about: `system`, or `<kind>:<id>` such as `team:3`,
 * `experiment:42`, `dataset:7`. Clients subscribe to topics; the sidecar checks each one.
 */
export const SYSTEM_TOPIC = "system";

const topicSchema = z
  .string()
  .regex(/^(system|[a-z][a-z_]*:[1-9]\d*)$/, 'a topic is "system" or "<kind>:<id>", e.g. "experiment:42"');

export type Topic = z.infer<typeof topicSchema>;

export function parseTopic(topic: string): { kind: "system" } | { kind: string; id: number } | null {
  if (!topicSchema.safeParse(topic).success) return null;
  if (topic === SYSTEM_TOPIC) return { kind: "system" };
  const [kind, id] = topic.split(":");
  return { kind, id: Number(id) };
}

export function teamTopic(teamId: number): Topic {
  return `team:${teamId}`;
}

const eventBase = {
  /** The team the event belongs to; null only for `system` events, which carry nothing team-specific. */
  teamId: z.number().int().positive().nullable(),
  topic: topicSchema,
  /** Position in the topic's table (e.g. a log line's sequence number), for replay after a reconnect. */
  seq: z.number().int().nonnegative().optional(),
  /** Also deliver to everyone in `team:<teamId>` (list pages), not only to the topic's subscribers. */
  teamWide: z.boolean().optional(),
};

/** Every event type, one member each; a new kind of event adds its member here. */
export const studioEventSchema = z
  .discriminatedUnion("type", [
    /**
     * Someone's access changed (key or token revoked, user disabled, membership changed): realtime
     * sidecars check their open connections again at once. Never forwarded to clients.
     */
    z.object({ ...eventBase, type: z.literal("auth.changed") }),
    /** Answer to the `system.ping` job: proves the queue → worker → bus → client round trip. */
    z.object({ ...eventBase, type: z.literal("system.pong"), nonce: z.string().min(1).max(200), jobId: z.string() }),
    /** Import progress of a dataset (topic `dataset:<id>`); `failed` means the row and files are gone. */
    z.object({
      ...eventBase,
      type: z.literal("dataset.progress"),
      datasetId: z.number().int().positive(),
      status: z.enum(["importing", "ready", "failed"]),
      stage: z.string().max(200),
      progress: z.number().min(0).max(1),
      error: z.string().max(2000).optional(),
    }),
    /** A run's log line (topic `experiment:<id>`, `seq` = its sequence number). Long messages are cut; the row keeps all. */
    z.object({
      ...eventBase,
      type: z.literal("experiment.log"),
      experimentId: z.number().int().positive(),
      level: z.enum(["info", "warn", "error"]),
      stage: z.string().max(40),
      message: z.string().max(2000),
      epoch: z.number().int().nullable(),
      metrics: z.record(z.string(), z.number()).nullable(),
      at: z.string(),
    }),
    /** A metrics point (step 0 = end of epoch), written under the run's lease. */
    z.object({
      ...eventBase,
      type: z.literal("experiment.metrics"),
      experimentId: z.number().int().positive(),
      epoch: z.number().int().nonnegative(),
      step: z.number().int().nonnegative(),
      values: z.record(z.string(), z.number()),
    }),
    /** Status or progress changed; sent team-wide too so list pages update. */
    z.object({
      ...eventBase,
      type: z.literal("experiment.status"),
      experimentId: z.number().int().positive(),
      status: z.string().max(20),
      progress: z.number(),
      currentEpoch: z.number().int(),
      totalEpochs: z.number().int(),
      error: z.string().max(2000).nullable(),
    }),
    /** A training host's 1 s sample (topic `system`): what /ws/system and the fleet page show; the system_samples row has the rest. */
    z.object({
      ...eventBase,
      type: z.literal("system.sample"),
      host: z.string().min(1).max(255),
      at: z.string(),
      cpuPercent: z.number(),
      memoryUsed: z.number(),
      memoryTotal: z.number(),
      diskUsed: z.number().nullable(),
      diskTotal: z.number().nullable(),
      gpus: z
        .array(
          z.object({
            index: z.number().int(),
            name: z.string().max(200),
            utilPercent: z.number().nullable(),
            memoryUsedMiB: z.number().nullable(),
            memoryTotalMiB: z.number().nullable(),
            temperatureC: z.number().nullable(),
          }),
        )
        .max(32),
      gpuUnavailable: z.string().max(500).nullable(),
    }),
  ])
  .superRefine((event, issues) => {
    if ((event.teamId === null) !== (event.topic === SYSTEM_TOPIC)) {
      issues.addIssue({ code: "custom", path: ["teamId"], message: `teamId must be null exactly when the topic is "system" (topic ${event.topic})` });
    }
    const parsed = parseTopic(event.topic);
    if (parsed && parsed.kind === "team" && "id" in parsed && parsed.id !== event.teamId) {
      issues.addIssue({ code: "custom", path: ["topic"], message: `topic ${event.topic} does not belong to team ${event.teamId}` });
    }
  });

export type StudioEvent = z.infer<typeof studioEventSchema>;
