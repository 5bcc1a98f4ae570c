import os from "node:os";
import { io as connectSocket, type Socket } from "socket.io-client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { createRouteWorld, ORIGIN, type RouteWorld } from "@/server/http/testing";
import type { ClientToServerEvents, ServerToClientEvents, SubscribeAck } from "./protocol";
import { startRealtimeServer, type RealtimeServer } from "./server";
import { topicKindNames } from "./topics";
import { wsRoutePatterns } from "./ws-routes";

/**
 * The sidecar's doors: every plain WebSocket route and socket.io with every topic kind. Without
 * credentials or with revoked ones → refused (4401 / "unauthorized"), another team's resource →
 * not found (4404 / a refused subscription). A route or topic kind added without a row fails.
 */

const WS_ROUTES: Record<string, { path(w: RouteWorld): string; owned?: boolean }> = {
  "/ws/system": { path: () => "/ws/system" },
  "/ws/training/{id}": { path: (w) => `/ws/training/${w.ids.experiment}`, owned: true },
  "/ws/inference/stream": { path: () => "/ws/inference/stream" },
};

const TOPICS: Record<string, (w: RouteWorld) => string> = {
  team: (w) => `team:${w.member.caller.teamId}`,
  experiment: (w) => `experiment:${w.ids.experiment}`,
  dataset: (w) => `dataset:${w.ids.dataset}`,
};

type Client = Socket<ServerToClientEvents, ClientToServerEvents>;

let w: RouteWorld;
let server: RealtimeServer;
const open: { close(): void }[] = [];

beforeAll(async () => {
  w = await createRouteWorld();
  server = await startRealtimeServer({ db: w.tdb.db, databaseUrl: w.tdb.url, port: 0, origin: ORIGIN, dataDir: os.tmpdir() });
}, 120_000);

afterAll(async () => {
  open.forEach((s) => s.close());
  await server?.close();
  await w?.close();
});

/** How a WebSocket connection ends up: the close code, or "open" once the first packet arrives. */
function wsOutcome(path: string, credential?: string): Promise<number | "open"> {
  const socket = new WebSocket(`ws://127.0.0.1:${server.port}${path}`, { headers: credential ? { authorization: `Bearer ${credential}` } : {} });
  open.push(socket);
  return new Promise((resolve) => {
    socket.once("message", () => resolve("open"));
    socket.once("close", (code) => resolve(code));
  });
}

function socketClient(credential?: string): Client {
  const client: Client = connectSocket(`http://127.0.0.1:${server.port}`, { transports: ["websocket"], reconnection: false, auth: credential ? { token: credential } : {} });
  open.push({ close: () => client.disconnect() });
  return client;
}

/** "connected", or the reason the handshake was refused. */
function handshake(client: Client): Promise<string> {
  return new Promise((resolve) => {
    client.once("connect", () => resolve("connected"));
    client.once("connect_error", (error) => resolve(error.message));
  });
}

describe("the tables cover every door", () => {
  it("has a row for each WebSocket route and topic kind", () => {
    expect(Object.keys(WS_ROUTES).sort()).toEqual(wsRoutePatterns().sort());
    expect(Object.keys(TOPICS).sort()).toEqual(topicKindNames().sort());
  });
});

describe.each(Object.entries(WS_ROUTES))("WebSocket %s", (_pattern, route) => {
  it("closes 4401 without credentials or with a revoked key or JWT, and opens for the member", async () => {
    expect(await wsOutcome(route.path(w))).toBe(4401);
    expect(await wsOutcome(route.path(w), w.keys.revoked)).toBe(4401);
    expect(await wsOutcome(route.path(w), w.jwts.revoked)).toBe(4401);
    expect(await wsOutcome(route.path(w), w.keys.member)).toBe("open");
  });

  it.runIf(route.owned)("closes 4404 for another team", async () => {
    expect(await wsOutcome(route.path(w), w.keys.other)).toBe(4404);
  });
});

describe("socket.io", () => {
  it("refuses a handshake without credentials or with a revoked key or JWT", async () => {
    expect(await handshake(socketClient())).toBe("unauthorized");
    expect(await handshake(socketClient(w.keys.revoked))).toBe("unauthorized");
    expect(await handshake(socketClient(w.jwts.revoked))).toBe("unauthorized");
  });

  it.each(Object.entries(TOPICS))("lets the member follow a %s topic and refuses it to another team", async (_kind, topic) => {
    const subscribe = async (credential: string) => {
      const client = socketClient(credential);
      expect(await handshake(client)).toBe("connected");
      return new Promise<SubscribeAck>((resolve) => client.emit("subscribe", { topic: topic(w) }, resolve));
    };
    expect(await subscribe(w.keys.member)).toMatchObject({ ok: true });
    expect(await subscribe(w.keys.other)).toMatchObject({ ok: false, error: expect.stringMatching(/not found/) });
  });
});
