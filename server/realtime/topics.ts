import type { Db } from "@/db/client";
import { parseTopic, type StudioEvent } from "@/server/events/types";
import type { Caller } from "@/server/context";

/**
 * What the sidecar needs to know about one kind of topic (`experiment` for `experiment:42`):
 * who may subscribe, and how to resend what a reconnecting client missed.
 */
export interface TopicKind {
  /** True when resource `id` belongs to the caller's team. Never throws for a missing resource: false. */
  authorize(db: Db, caller: Caller, id: number): Promise<boolean>;
  /** Events for resource `id` after sequence number `since`, oldest first, rebuilt from the tables. */
  replay?(db: Db, teamId: number, id: number, since: number): Promise<StudioEvent[]>;
}

const topicKinds = new Map<string, TopicKind>([["team", { authorize: async (_db, caller, id) => id === caller.teamId }]]);

/** Called once per resource kind, from server/realtime/extensions.ts. */
export function registerTopicKind(kind: string, definition: TopicKind): void {
  if (kind === "system" || topicKinds.has(kind)) throw new Error(`Topic kind "${kind}" is already registered`);
  topicKinds.set(kind, definition);
}

/** The registered kinds, `team` included (tests check each is covered). */
export function topicKindNames(): string[] {
  return [...topicKinds.keys()];
}

export type TopicDecision = { ok: true } | { ok: false; reason: string };

/** Whether the caller may follow `topic`. Topics of kinds without a table yet are refused. */
export async function authorizeTopic(db: Db, caller: Caller, topic: string): Promise<TopicDecision> {
  const parsed = parseTopic(topic);
  if (!parsed) return { ok: false, reason: `"${topic}" is not a topic (expected "system" or "<kind>:<id>")` };
  if (!("id" in parsed)) return { ok: true };
  const kind = topicKinds.get(parsed.kind);
  if (!kind) return { ok: false, reason: `unknown topic kind "${parsed.kind}"` };
  // Another team's resource reads as missing, as everywhere else.
  if (!(await kind.authorize(db, caller, parsed.id))) return { ok: false, reason: `${topic} not found` };
  return { ok: true };
}

/** Events of an authorised topic after `since`; none for kinds that keep no history. */
export async function replayTopic(db: Db, caller: Caller, topic: string, since: number): Promise<StudioEvent[]> {
  const parsed = parseTopic(topic);
  if (!parsed || !("id" in parsed)) return [];
  const replay = topicKinds.get(parsed.kind)?.replay;
  return replay ? replay(db, caller.teamId, parsed.id, since) : [];
}
