import { z } from "zod";
import type { StudioEvent } from "@/server/events/types";

/** The socket.io conversation between the studio's pages and the realtime sidecar. */
export const subscribeRequestSchema = z.object({
  topic: z.string(),
  /** Last sequence number the client has for this topic: the sidecar resends what came after. */
  since: z.number().int().nonnegative().optional(),
});
export type SubscribeRequest = z.infer<typeof subscribeRequestSchema>;

export type SubscribeAck = { ok: true; replayed: number } | { ok: false; error: string };

export interface ServerToClientEvents {
  event: (event: StudioEvent) => void;
  /** The sidecar lost events (its database connection dropped): refetch or resubscribe with `since`. */
  resync: () => void;
}

export interface ClientToServerEvents {
  subscribe: (request: SubscribeRequest, ack?: (result: SubscribeAck) => void) => void;
  unsubscribe: (topic: string, ack?: (result: { ok: true }) => void) => void;
}
