"use client";

import { useEffect, useRef, useState } from "react";
import { io, type Socket } from "socket.io-client";
import type { StudioEvent } from "@/server/events/types";
import type { ClientToServerEvents, ServerToClientEvents } from "@/server/realtime/protocol";

/**
 * Follows a realtime topic over socket.io (same origin, WebSocket only). On every (re)connect it
 * subscribes again with the last sequence number it saw, so the sidecar resends what was missed;
 * `onResync` runs when events may have been lost (refetch from the tables). `connected` false
 * means the page should poll instead.
 */
export function useTopic(topic: string | null, onEvent: (event: StudioEvent) => void, onResync: () => void): { connected: boolean } {
  const [connected, setConnected] = useState(false);
  const handlers = useRef({ onEvent, onResync });
  handlers.current = { onEvent, onResync };

  useEffect(() => {
    if (!topic) return;
    let lastSeq = 0;
    const socket: Socket<ServerToClientEvents, ClientToServerEvents> = io({ transports: ["websocket"] });
    const subscribe = () =>
      socket.emit("subscribe", { topic, since: lastSeq }, (ack) => {
        setConnected(ack.ok);
        if (ack.ok) handlers.current.onResync();
      });
    socket.on("connect", subscribe);
    socket.on("disconnect", () => setConnected(false));
    socket.on("connect_error", () => setConnected(false));
    socket.on("resync", () => {
      handlers.current.onResync();
      subscribe();
    });
    socket.on("event", (event) => {
      if (event.topic !== topic) return;
      if (event.seq !== undefined) {
        if (event.seq <= lastSeq) return;
        lastSeq = event.seq;
      }
      handlers.current.onEvent(event);
    });
    return () => {
      socket.close();
      setConnected(false);
    };
  }, [topic]);

  return { connected };
}

/**
 * Follows the team-wide events every studio socket receives without subscribing (experiment status
 * changes, dataset import progress): list pages refetch on them instead of polling. `onResync`
 * runs on every (re)connect and when events may have been lost.
 */
export function useTeamEvents(onEvent: (event: StudioEvent) => void, onResync: () => void): { connected: boolean } {
  const [connected, setConnected] = useState(false);
  const handlers = useRef({ onEvent, onResync });
  handlers.current = { onEvent, onResync };

  useEffect(() => {
    const socket: Socket<ServerToClientEvents, ClientToServerEvents> = io({ transports: ["websocket"] });
    socket.on("connect", () => {
      setConnected(true);
      handlers.current.onResync();
    });
    socket.on("disconnect", () => setConnected(false));
    socket.on("connect_error", () => setConnected(false));
    socket.on("resync", () => handlers.current.onResync());
    socket.on("event", (event) => handlers.current.onEvent(event));
    return () => {
      socket.close();
      setConnected(false);
    };
  }, []);

  return { connected };
}
