import crypto from "node:crypto";
import { sql as drizzleSql } from "drizzle-orm";
import postgres from "postgres";
import type { DbOrTx } from "@/db/client";
import { studioEventSchema, type StudioEvent } from "./types";

const EVENT_CHANNEL = "studio_events";
/** PostgreSQL refuses NOTIFY payloads of 8000 bytes or more. */
const MAX_EVENT_BYTES = 7999;

export class EventTooLarge extends Error {
  constructor(type: string, bytes: number) {
    super(`Event ${type} is ${bytes} bytes; NOTIFY payloads must stay under ${MAX_EVENT_BYTES + 1}. Send an id and let clients read the table.`);
    this.name = "EventTooLarge";
  }
}

export class InvalidEvent extends Error {
  constructor(message: string) {
    super(message);
    this.name = "InvalidEvent";
  }
}

function encode(event: StudioEvent): string {
  const checked = studioEventSchema.safeParse(event);
  if (!checked.success) {
    const detail = checked.error.issues.map((i) => `${i.path.join(".") || "event"}: ${i.message}`).join("; ");
    throw new InvalidEvent(`Invalid ${String((event as { type?: unknown }).type)} event: ${detail}`);
  }
  const payload = JSON.stringify(checked.data);
  const bytes = Buffer.byteLength(payload);
  if (bytes > MAX_EVENT_BYTES) throw new EventTooLarge(event.type, bytes);
  return payload;
}

/**
 * Sends an event to every subscriber. Given a transaction, PostgreSQL delivers it only when that
 * transaction commits, so a listener never sees an event for rows it cannot read yet.
 */
export async function publish(target: DbOrTx | postgres.Sql, event: StudioEvent): Promise<void> {
  const payload = encode(event);
  if (typeof target === "function") {
    await target`SELECT pg_notify(${EVENT_CHANNEL}, ${payload})`;
  } else {
    await target.execute(drizzleSql`SELECT pg_notify(${EVENT_CHANNEL}, ${payload})`);
  }
}

export interface Subscription {
  close(): Promise<void>;
}

export interface SubscribeOptions {
  /**
   * Called when the listen connection came back after a loss: events sent meanwhile are gone,
   * so consumers should tell their clients to catch up from the tables.
   */
  onReconnect?: () => void;
  /** Called with notifications that are not valid events (an older publisher, a manual NOTIFY). */
  onInvalid?: (error: Error, payload: string) => void;
  /** How often the connection proves it still receives notifications. */
  probeIntervalMs?: number;
}

/**
 * Listens for events on a dedicated connection. Every few seconds it NOTIFYs itself on a private
 * channel: when that probe does not come back (connection dropped, database restarted, LISTEN
 * silently lost), it opens a new connection and reports the gap through `onReconnect`.
 */
export async function subscribe(databaseUrl: string, handler: (event: StudioEvent) => void, options: SubscribeOptions = {}): Promise<Subscription> {
  const probeChannel = `${EVENT_CHANNEL}_probe_${crypto.randomBytes(6).toString("hex")}`;
  const probeIntervalMs = options.probeIntervalMs ?? 5000;
  let closed = false;
  let probeTimer: NodeJS.Timeout | undefined;
  let probeArrived: (() => void) | undefined;

  const onNotify = (payload: string) => {
    let event: StudioEvent;
    try {
      event = studioEventSchema.parse(JSON.parse(payload));
    } catch (error) {
      options.onInvalid?.(error as Error, payload);
      return;
    }
    handler(event);
  };

  const open = async (): Promise<postgres.Sql> => {
    const sql = postgres(databaseUrl, { max: 1, onnotice: () => {}, connection: { application_name: "studio-events" } });
    try {
      let listenedBefore = false;
      // postgres.js re-issues LISTEN by itself after a dropped connection; that is a gap too.
      await sql.listen(EVENT_CHANNEL, onNotify, () => {
        if (listenedBefore) options.onReconnect?.();
        listenedBefore = true;
      });
      await sql.listen(probeChannel, () => probeArrived?.());
      return sql;
    } catch (error) {
      await sql.end({ timeout: 0 }).catch(() => {});
      throw error;
    }
  };

  const probe = async (sql: postgres.Sql): Promise<boolean> => {
    let timeout: NodeJS.Timeout | undefined;
    const arrived = new Promise<boolean>((resolve) => {
      timeout = setTimeout(() => resolve(false), 2000);
      probeArrived = () => resolve(true);
    });
    try {
      await sql`SELECT pg_notify(${probeChannel}, '')`;
      return await arrived;
    } catch {
      return false;
    } finally {
      clearTimeout(timeout);
    }
  };

  let current: postgres.Sql = await open();

  const watch = async () => {
    if (closed) return;
    if (!(await probe(current)) && !closed) {
      void current.end({ timeout: 0 }).catch(() => {});
      try {
        current = await open();
        if (closed) await current.end({ timeout: 0 });
        else options.onReconnect?.();
      } catch {
        // The database is still unreachable: the next round tries again.
      }
    }
    if (!closed) probeTimer = setTimeout(() => void watch(), probeIntervalMs);
  };
  probeTimer = setTimeout(() => void watch(), probeIntervalMs);

  return {
    async close() {
      closed = true;
      clearTimeout(probeTimer);
      await current.end({ timeout: 2 });
    },
  };
}
