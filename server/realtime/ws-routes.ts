import type { WebSocket } from "ws";
import type { Db } from "@/db/client";
import type { StudioEvent } from "@/server/events/types";
import type { Caller } from "@/server/context";

/** What a plain-WebSocket route handler gets for one authenticated connection. */
export interface WsRouteContext {
  caller: Caller;
  /** Values of the pattern's `{name}` segments. */
  params: Record<string, string>;
  query: URLSearchParams;
  db: Db;
  /** The storage root (STUDIO_DATA_DIR). */
  dataDir: string;
  /** Every live event this sidecar receives (all teams: filter by `caller.teamId`); returns an unsubscribe. Removed on close. */
  onEvent(listener: (event: StudioEvent) => void): () => void;
}

/** Called once per connection; may close the socket itself (e.g. 4404 for another team's resource). */
export type WsRouteHandler = (socket: WebSocket, ctx: WsRouteContext) => void | Promise<void>;

interface WsRoute {
  pattern: string;
  regex: RegExp;
  names: string[];
  handler: WsRouteHandler;
}

const routes: WsRoute[] = [];

/** `pattern` is a path with `{name}` segments, e.g. `/ws/training/{id}`. */
export function registerWsRoute(pattern: string, handler: WsRouteHandler): void {
  if (!pattern.startsWith("/ws/")) throw new Error(`WebSocket route ${pattern} must start with /ws/`);
  if (routes.some((r) => r.pattern === pattern)) throw new Error(`WebSocket route ${pattern} is already registered`);
  const names: string[] = [];
  const source = pattern
    .split("/")
    .map((segment) => {
      const param = /^\{(\w+)\}$/.exec(segment);
      if (!param) return segment.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
      names.push(param[1]);
      return "([^/]+)";
    })
    .join("/");
  routes.push({ pattern, regex: new RegExp(`^${source}/?$`), names, handler });
}

/** The registered patterns (tests check each is covered). */
export function wsRoutePatterns(): string[] {
  return routes.map((route) => route.pattern);
}

export function matchWsRoute(pathname: string): { handler: WsRouteHandler; params: Record<string, string> } | null {
  for (const route of routes) {
    const match = route.regex.exec(pathname);
    if (match) return { handler: route.handler, params: Object.fromEntries(route.names.map((name, i) => [name, decodeURIComponent(match[i + 1])])) };
  }
  return null;
}
