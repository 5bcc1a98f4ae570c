import os from "node:os";
import { io as connectSocket, type Socket } from "socket.io-client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { ctxFor, seedTeam, seedUser } from "@/db/testing/fixtures";
import { createTestDb, type TestDb } from "@/db/testing/test-db";
import { createApiKey, revokeApiKey } from "@/server/auth/api-keys";
import { publish } from "@/server/events/bus";
import type { StudioEvent } from "@/server/events/types";
import type { ClientToServerEvents, ServerToClientEvents, SubscribeAck } from "./protocol";
import { startRealtimeServer, type RealtimeServer } from "./server";
import { registerTopicKind } from "./topics";
import { registerWsRoute } from "./ws-routes";

const ORIGIN = "http://studio.test";
type Client = Socket<ServerToClientEvents, ClientToServerEvents>;

let tdb: TestDb;
let server: RealtimeServer;
let teamId: number;
let otherTeamId: number;
let apiKey: string;
let otherApiKey: string;
let userId: number;
const clients: Client[] = [];
const sockets: WebSocket[] = [];

const pong = (nonce: string, team: number): StudioEvent => ({ type: "system.pong", teamId: team, topic: `team:${team}`, nonce, jobId: "test" });
const nonceOf = (event: StudioEvent) => (event.type === "system.pong" ? event.nonce : undefined);

/** Test route: forwards the caller's own team's events, as a real route would. */
registerWsRoute("/ws/test/{channel}", (socket, { caller, params, onEvent }) => {
  socket.send(JSON.stringify({ type: "hello", data: { channel: params.channel, teamId: caller.teamId } }));
  onEvent((event) => {
    if (event.teamId === caller.teamId) socket.send(JSON.stringify({ type: "event", data: event }));
  });
});

/** Test topic kind with history: resource 1 belongs to the first team and has three events. */
registerTopicKind("replaytest", {
  authorize: async (_db, caller, id) => id === 1 && caller.teamId === teamId,
  replay: async (_db, team, _id, since) =>
    [1, 2, 3].filter((seq) => seq > since).map((seq) => ({ type: "system.pong", teamId: team, topic: "replaytest:1", seq, nonce: `replayed-${seq}`, jobId: "r" }) as StudioEvent),
});

function socketClient(opts: { token?: string; origin?: string } = {}): Client {
  const client: Client = connectSocket(`http://127.0.0.1:${server.port}`, {
    transports: ["websocket"],
    reconnection: false,
    auth: opts.token ? { token: opts.token } : {},
    extraHeaders: opts.origin ? { origin: opts.origin } : {},
  });
  clients.push(client);
  return client;
}

function connected(client: Client): Promise<void> {
  return new Promise((resolve, reject) => {
    client.once("connect", () => resolve());
    client.once("connect_error", reject);
  });
}

function refusal(client: Client): Promise<string> {
  return new Promise((resolve, reject) => {
    client.once("connect", () => reject(new Error("connection was accepted")));
    client.once("connect_error", (error) => resolve(error.message));
  });
}

function collect(client: Client): StudioEvent[] {
  const events: StudioEvent[] = [];
  client.on("event", (event) => events.push(event));
  return events;
}

function subscribeTo(client: Client, topic: string, since?: number): Promise<SubscribeAck> {
  return new Promise((resolve) => client.emit("subscribe", { topic, since }, resolve));
}

function wsClient(path: string, headers: Record<string, string> = {}): WebSocket {
  const socket = new WebSocket(`ws://127.0.0.1:${server.port}${path}`, { headers });
  sockets.push(socket);
  return socket;
}

function closeCode(socket: WebSocket): Promise<number> {
  return new Promise((resolve) => socket.once("close", (code) => resolve(code)));
}

function messages(socket: WebSocket): { type: string; data: never }[] {
  const received: { type: string; data: never }[] = [];
  socket.on("message", (raw) => received.push(JSON.parse(raw.toString())));
  return received;
}

beforeAll(async () => {
  tdb = await createTestDb();
  const team = await seedTeam(tdb.db, "Vision");
  const other = await seedTeam(tdb.db, "Other");
  teamId = team.id;
  otherTeamId = other.id;
  const user = await seedUser(tdb.db, { email: "m@x.io", teams: [{ teamId, role: "member" }] });
  userId = user.id;
  const outsider = await seedUser(tdb.db, { email: "o@x.io", teams: [{ teamId: otherTeamId, role: "member" }] });
  apiKey = (await createApiKey(await ctxFor(tdb.db, user.id, teamId), { name: "realtime test" })).key;
  otherApiKey = (await createApiKey(await ctxFor(tdb.db, outsider.id, otherTeamId), { name: "other" })).key;
  server = await startRealtimeServer({ db: tdb.db, databaseUrl: tdb.url, port: 0, origin: ORIGIN, dataDir: os.tmpdir(), busProbeIntervalMs: 500 });
});

afterAll(async () => {
  clients.forEach((c) => c.disconnect());
  sockets.filter((s) => s.readyState === WebSocket.OPEN).forEach((s) => s.terminate());
  await server?.close();
  await tdb?.close();
});

describe("realtime sidecar: socket.io", () => {
  it("forwards a bus event to its team's room, and not another team's", async () => {
    const client = socketClient({ token: apiKey });
    const events = collect(client);
    await connected(client);
    expect(await subscribeTo(client, `team:${teamId}`)).toEqual({ ok: true, replayed: 0 });

    await publish(tdb.db, pong("for-the-other-team", otherTeamId));
    await publish(tdb.db, pong("for-my-team", teamId));
    await expect.poll(() => events.map(nonceOf)).toContain("for-my-team");
    expect(events.map(nonceOf)).not.toContain("for-the-other-team");
  });

  it("accepts a Bearer-prefixed token and the same-origin browser", async () => {
    const client = socketClient({ token: `Bearer ${apiKey}`, origin: ORIGIN });
    await connected(client);
    expect(client.connected).toBe(true);
  });

  it("refuses a connection without a valid credential", async () => {
    expect(await refusal(socketClient())).toBe("unauthorized");
    expect(await refusal(socketClient({ token: "stk_AAAAAAAA_not-a-real-key" }))).toBe("unauthorized");
  });

  it("refuses a browser from another origin even with a valid credential", async () => {
    await expect(refusal(socketClient({ token: apiKey, origin: "http://evil.example" }))).resolves.toBeTruthy();
  });

  it("refuses another team's topic, unknown kinds and malformed topics; allows system", async () => {
    const client = socketClient({ token: apiKey });
    await connected(client);
    expect(await subscribeTo(client, `team:${otherTeamId}`)).toMatchObject({ ok: false, error: `team:${otherTeamId} not found` });
    expect(await subscribeTo(client, "gizmo:1")).toMatchObject({ ok: false, error: expect.stringContaining("unknown topic kind") });
    expect(await subscribeTo(client, "everything")).toMatchObject({ ok: false });
    expect(await subscribeTo(client, "system")).toEqual({ ok: true, replayed: 0 });

    const events = collect(client);
    await publish(tdb.db, { type: "system.pong", teamId: null, topic: "system", nonce: "to-everyone", jobId: "s" });
    await expect.poll(() => events.map(nonceOf)).toContain("to-everyone");
  });

  it("replays what a reconnecting client missed after its sequence number", async () => {
    const client = socketClient({ token: apiKey });
    const events = collect(client);
    await connected(client);
    expect(await subscribeTo(client, "replaytest:1", 1)).toEqual({ ok: true, replayed: 2 });
    expect(events.map(nonceOf)).toEqual(["replayed-2", "replayed-3"]);

    const outsider = socketClient({ token: otherApiKey });
    await connected(outsider);
    expect(await subscribeTo(outsider, "replaytest:1", 0)).toMatchObject({ ok: false });
  });
});

describe("realtime sidecar: plain WebSocket", () => {
  it("serves a registered route to a Bearer client and forwards its team's events", async () => {
    const socket = wsClient("/ws/test/alpha", { authorization: `Bearer ${apiKey}` });
    const received = messages(socket);
    await expect.poll(() => received[0]).toEqual({ type: "hello", data: { channel: "alpha", teamId } });
    await publish(tdb.db, pong("ws-other-team", otherTeamId));
    await publish(tdb.db, pong("ws-my-team", teamId));
    await expect.poll(() => received.map((m) => (m.type === "event" ? nonceOf(m.data) : undefined))).toContain("ws-my-team");
    expect(received.map((m) => (m.type === "event" ? nonceOf(m.data) : undefined))).not.toContain("ws-other-team");
  });

  it("accepts the token as a query parameter", async () => {
    const received = messages(wsClient(`/ws/test/beta?token=${apiKey}`));
    await expect.poll(() => received[0]?.type).toBe("hello");
  });

  it("closes unauthenticated connections with 4401 and unknown paths with 4404", async () => {
    expect(await closeCode(wsClient("/ws/test/alpha"))).toBe(4401);
    expect(await closeCode(wsClient("/ws/test/alpha", { authorization: "Bearer stk_AAAAAAAA_wrong" }))).toBe(4401);
    expect(await closeCode(wsClient("/ws/nowhere", { authorization: `Bearer ${apiKey}` }))).toBe(4404);
  });

  it("refuses a browser from another origin before upgrading", async () => {
    const socket = wsClient("/ws/test/alpha", { authorization: `Bearer ${apiKey}`, origin: "http://evil.example" });
    const status = await new Promise<number>((resolve) => socket.once("unexpected-response", (_req, res) => resolve(res.statusCode ?? 0)));
    expect(status).toBe(403);
  });

});

describe("realtime sidecar: revoked credentials", () => {
  it("closes a socket.io connection and a WebSocket at once when their API key is revoked, and keeps others", async () => {
    const ctx = await ctxFor(tdb.db, userId, teamId);
    const doomed = await createApiKey(ctx, { name: "to revoke" });
    const client = socketClient({ token: doomed.key });
    await connected(client);
    const socket = wsClient("/ws/test/alpha", { authorization: `Bearer ${doomed.key}` });
    await new Promise((resolve) => socket.once("open", resolve));
    const keeper = socketClient({ token: apiKey });
    await connected(keeper);
    const disconnected = new Promise<string>((resolve) => client.once("disconnect", (reason) => resolve(reason)));

    await revokeApiKey(ctx, { id: doomed.id });

    expect(await closeCode(socket)).toBe(4401);
    expect(await disconnected).toBe("io server disconnect");
    expect(await refusal(socketClient({ token: doomed.key }))).toBe("unauthorized");
    expect(keeper.connected).toBe(true);
  });
});

describe("realtime sidecar: health", () => {
  it("answers /healthz with its version and open connections", async () => {
    const response = await fetch(`http://127.0.0.1:${server.port}/healthz`);
    expect(response.status).toBe(200);
    const body = await response.json();
    expect(body).toMatchObject({ ok: true, version: expect.any(String) });
    expect(body.connections).toBe(server.connections());
  });
});
