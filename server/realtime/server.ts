import { EventEmitter } from "node:events";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { createAdapter } from "@socket.io/postgres-adapter";
import pg from "pg";
import { Server, type Socket } from "socket.io";
import { WebSocketServer, type WebSocket } from "ws";
import type { Db } from "@/db/client";
import { forgetCachedCallers } from "@/server/auth/caller-cache";
import { authenticate, type CredentialSource } from "@/server/auth/callers";
import type { Caller } from "@/server/context";
import { Unavailable } from "@/server/errors";
import { subscribe } from "@/server/events/bus";
import { teamTopic, type StudioEvent } from "@/server/events/types";
import { STUDIO_VERSION } from "@/server/system/version";
import "./extensions";
import { isAllowedOrigin } from "./origin";
import { subscribeRequestSchema, type ClientToServerEvents, type ServerToClientEvents, type SubscribeAck } from "./protocol";
import { authorizeTopic, replayTopic } from "./topics";
import { matchWsRoute } from "./ws-routes";

export interface RealtimeServerOptions {
  db: Db;
  databaseUrl: string;
  /** 0 picks a free port. */
  port: number;
  host?: string;
  /** The studio's public origin; browsers from elsewhere are refused. */
  origin: string;
  dataDir: string;
  /** How often the event subscription checks its connection (tests shorten it). */
  busProbeIntervalMs?: number;
  /**
   * How often every open connection's credentials are checked again, besides at once on an
   * `auth.changed` event: catches expired tokens and events lost while the bus reconnected.
   */
  recheckIntervalMs?: number;
}

/** An open connection whose credentials keep being checked. */
interface LiveConnection {
  credentials: CredentialSource;
  caller: Caller;
  close(): void;
}

export interface RealtimeServer {
  port: number;
  connections(): number;
  close(): Promise<void>;
}

interface SocketData {
  caller: Caller;
  credentials: CredentialSource;
}

type StudioSocket = Socket<ClientToServerEvents, ServerToClientEvents, Record<string, never>, SocketData>;

function bearerFrom(value: unknown): string | undefined {
  if (typeof value !== "string" || value === "") return undefined;
  return /^Bearer\s/i.test(value) ? value : `Bearer ${value}`;
}

/**
 * The realtime sidecar: socket.io for the studio's pages, plain WebSockets under `/ws/` for old
 * clients, both fed by the PostgreSQL event bus, plus `GET /healthz`.
 */
export async function startRealtimeServer(options: RealtimeServerOptions): Promise<RealtimeServer> {
  const { db, origin } = options;
  const localEvents = new EventEmitter().setMaxListeners(0);
  const live = new Set<LiveConnection>();
  const track = (connection: LiveConnection) => {
    live.add(connection);
    return () => live.delete(connection);
  };

  /** Closes every connection whose credentials no longer give the same user the same team. */
  async function recheckConnections(): Promise<void> {
    forgetCachedCallers(db);
    for (const connection of [...live]) {
      const caller = await authenticate(db, connection.credentials).catch((error: Error) => {
        // A database hiccup is not a revocation: keep the connection until the next check.
        console.error(`[realtime] could not check a connection's credentials: ${error.message}`);
        return connection.caller;
      });
      if (!caller || caller.userId !== connection.caller.userId || caller.teamId !== connection.caller.teamId) {
        live.delete(connection);
        connection.close();
      }
    }
  }

  const httpServer = http.createServer((req, res) => {
    const pathname = new URL(req.url ?? "/", "http://sidecar").pathname;
    if (req.method === "GET" && pathname === "/healthz") {
      res.writeHead(200, { "content-type": "application/json", "cache-control": "no-store" });
      res.end(JSON.stringify({ ok: true, version: STUDIO_VERSION, connections: connections() }));
      return;
    }
    res.writeHead(404, { "content-type": "application/json" });
    res.end(JSON.stringify({ error: `no route ${req.method} ${pathname}` }));
  });

  const pool = new pg.Pool({ connectionString: options.databaseUrl, max: 3, application_name: "studio-realtime" });
  // A database restart must not take the sidecar down: node-postgres emits an 'error' on idle
  // clients (through the pool) and on checked-out ones (the adapter keeps its LISTEN client checked
  // out), and an 'error' nobody listens to kills the process. The adapter reconnects by itself, but
  // forgets its dropped LISTEN client without releasing it: each outage would leak a pool slot (and
  // pool.end() wait forever), so a client whose connection ended goes back to the pool here.
  const logPoolError = (error: Error) => console.error(`[realtime] adapter connection: ${error.message}`);
  const checkedOut = new WeakSet<pg.PoolClient>();
  pool.on("error", logPoolError);
  pool.on("acquire", (client) => checkedOut.add(client));
  pool.on("release", (_error, client) => checkedOut.delete(client));
  pool.on("connect", (client) => {
    client.on("error", logPoolError);
    client.on("end", () => {
      if (checkedOut.has(client)) client.release(true);
    });
  });

  const io = new Server<ClientToServerEvents, ServerToClientEvents, Record<string, never>, SocketData>(httpServer, {
    path: "/socket.io/",
    serveClient: false,
    // Leave upgrades for other paths (/ws/…) to our handler below instead of dropping them.
    destroyUpgrade: false,
    adapter: createAdapter(pool, { errorHandler: (error) => console.error(`[realtime] adapter: ${error.message}`) }),
    allowRequest: (req, callback) => {
      const allowed = isAllowedOrigin(req.headers.origin, req.headers.host, origin);
      callback(allowed ? null : `origin ${req.headers.origin} is not allowed`, allowed);
    },
  });

  io.use(async (socket, next) => {
    try {
      const { headers, auth } = socket.handshake;
      const credentials: CredentialSource = {
        authorization: bearerFrom((auth as { token?: unknown } | undefined)?.token) ?? headers.authorization,
        cookie: headers.cookie,
      };
      const caller = await authenticate(db, credentials);
      if (!caller) return next(new Error("unauthorized"));
      socket.data.caller = caller;
      socket.data.credentials = credentials;
      next();
    } catch (error) {
      next(error as Error);
    }
  });

  io.on("connection", (socket: StudioSocket) => {
    const { caller, credentials } = socket.data;
    void socket.join(teamTopic(caller.teamId));
    const untrack = track({ caller, credentials, close: () => socket.disconnect(true) });
    socket.on("disconnect", untrack);

    socket.on("subscribe", async (request, ack) => {
      const reply = (result: SubscribeAck) => ack?.(result);
      const parsed = subscribeRequestSchema.safeParse(request);
      if (!parsed.success) return reply({ ok: false, error: `invalid subscribe request: ${parsed.error.issues[0]?.message}` });
      const { topic, since } = parsed.data;
      try {
        const decision = await authorizeTopic(db, caller, topic);
        if (!decision.ok) return reply({ ok: false, error: decision.reason });
        // Join before replaying so nothing falls between the two; clients drop duplicates by `seq`.
        await socket.join(topic);
        const missed = since === undefined ? [] : await replayTopic(db, caller, topic, since);
        for (const event of missed) socket.emit("event", event);
        reply({ ok: true, replayed: missed.length });
      } catch (error) {
        console.error(`[realtime] subscribe ${topic}: ${(error as Error).message}`);
        reply({ ok: false, error: `could not subscribe to ${topic}` });
      }
    });

    socket.on("unsubscribe", async (topic, ack) => {
      // The team room carries team-wide events the pages rely on: it stays.
      if (typeof topic === "string" && topic !== teamTopic(caller.teamId)) await socket.leave(topic);
      ack?.({ ok: true });
    });
  });

  // Every sidecar LISTENs itself, so events go to local sockets only; broadcasting through the
  // adapter as well would deliver each event once per sidecar.
  const deliver = (event: StudioEvent) => {
    if (event.type === "auth.changed") {
      void recheckConnections();
      return;
    }
    const rooms = [event.topic];
    if (event.teamWide && event.teamId !== null) rooms.push(teamTopic(event.teamId));
    io.local.to(rooms).emit("event", event);
    localEvents.emit("event", event);
  };
  const bus = await subscribe(options.databaseUrl, deliver, {
    probeIntervalMs: options.busProbeIntervalMs,
    onReconnect: () => {
      console.warn("[realtime] event connection was lost and is back: asking clients to resync");
      io.local.emit("resync");
    },
    onInvalid: (error, payload) => console.error(`[realtime] dropped invalid event ${payload.slice(0, 200)}: ${error.message}`),
  });

  const wss = new WebSocketServer({ noServer: true, maxPayload: 1 << 20 });

  const acceptWebSocket = async (ws: WebSocket, req: http.IncomingMessage) => {
    const url = new URL(req.url ?? "/", "http://sidecar");
    const route = matchWsRoute(url.pathname);
    if (!route) return ws.close(4404, `no WebSocket endpoint at ${url.pathname}`);
    const credentials: CredentialSource = { authorization: bearerFrom(url.searchParams.get("token")) ?? req.headers.authorization, cookie: req.headers.cookie };
    const caller = await authenticate(db, credentials).catch((error: Error) => error);
    // 1013 "try again later": the database is down, the credential may be fine.
    if (caller instanceof Unavailable) return ws.close(1013, "database unavailable, try again");
    if (caller instanceof Error) {
      console.error(`[realtime] WebSocket authentication failed: ${caller.message}`);
      return ws.close(4401, "unauthorized");
    }
    if (!caller) return ws.close(4401, "unauthorized");
    if (ws.readyState !== ws.OPEN) return;
    const listeners: ((event: StudioEvent) => void)[] = [];
    const untrack = track({ caller, credentials, close: () => ws.close(4401, "credentials revoked") });
    ws.on("close", () => {
      untrack();
      listeners.forEach((listener) => localEvents.off("event", listener));
    });
    await route.handler(ws, {
      caller,
      params: route.params,
      query: url.searchParams,
      db,
      dataDir: options.dataDir,
      onEvent(listener) {
        listeners.push(listener);
        localEvents.on("event", listener);
        return () => localEvents.off("event", listener);
      },
    });
  };

  httpServer.on("upgrade", (req: http.IncomingMessage, socket, head) => {
    const pathname = new URL(req.url ?? "/", "http://sidecar").pathname;
    if (pathname.startsWith("/socket.io/")) return; // engine.io's own upgrade listener takes it
    if (!pathname.startsWith("/ws/")) {
      socket.end("HTTP/1.1 404 Not Found\r\nConnection: close\r\n\r\n");
      return;
    }
    if (!isAllowedOrigin(req.headers.origin, req.headers.host, origin)) {
      socket.end("HTTP/1.1 403 Forbidden\r\nConnection: close\r\n\r\n");
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => {
      acceptWebSocket(ws, req).catch((error: Error) => {
        console.error(`[realtime] ${pathname}: ${error.message}`);
        ws.close(1011, "internal error");
      });
    });
  });

  const recheckTimer = setInterval(() => void recheckConnections(), options.recheckIntervalMs ?? 60_000);
  recheckTimer.unref();

  function connections(): number {
    return io.engine.clientsCount + wss.clients.size;
  }

  await new Promise<void>((resolve, reject) => {
    httpServer.once("error", reject);
    httpServer.listen(options.port, options.host ?? "127.0.0.1", () => resolve());
  });

  return {
    port: (httpServer.address() as AddressInfo).port,
    connections,
    async close() {
      clearInterval(recheckTimer);
      await bus.close();
      for (const ws of wss.clients) ws.close(1001, "server shutting down");
      wss.close();
      await io.close();
      // Long-polling requests would otherwise keep the HTTP server open.
      httpServer.closeAllConnections();
      await pool.end();
    },
  };
}
