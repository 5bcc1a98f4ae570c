import http from "node:http";
import net from "node:net";
import path from "node:path";
import { fileURLToPath } from "node:url";
import next from "next";
import { env } from "@/server/env";
import { createFastRouter } from "@/server/http/fast-routes";
import { statusRoutes } from "@/server/http/status-routes";
import { onShutdown } from "@/server/lifecycle";
import { EXIT_CANNOT_START } from "./exit-codes";

/**
 * The studio's one public origin: Next.js for pages and APIs, with WebSocket upgrades for
 * `/socket.io/` and `/ws/` passed through, byte for byte, to the realtime sidecar. The old
 * dialects' hot status reads are answered before Next (server/http/status-routes.ts) by the same
 * handlers; the development server leaves them to Next so edits reload.
 */
const dev = process.argv.includes("--dev");
const e = env();
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const app = next({ dev, dir: root, hostname: "localhost", port: e.nextPort });
const handle = app.getRequestHandler();
await app.prepare();
const nextUpgrade = dev ? app.getUpgradeHandler() : null;
const answerFast = dev ? () => false : createFastRouter(statusRoutes(), e.origin);

function stampClient(req: http.IncomingMessage) {
  // Only we may say who the client is: drop whatever the client sent in our private headers.
  req.headers["x-studio-client-ip"] = req.socket.remoteAddress ?? "unknown";
  req.headers["x-studio-path"] = req.url ?? "/";
}

const server = http.createServer((req, res) => {
  stampClient(req);
  if (answerFast(req, res)) return;
  handle(req, res).catch((err) => {
    console.error("[web] request failed", err);
    if (!res.headersSent) res.writeHead(500).end();
  });
});
server.keepAliveTimeout = 65_000;

server.on("upgrade", (req, socket, head) => {
  const url = req.url ?? "";
  if (url.startsWith("/socket.io/") || url.startsWith("/ws/")) {
    stampClient(req);
    const upstream = net.connect(e.realtimePort, "127.0.0.1", () => {
      const headerLines = Object.entries(req.headers).flatMap(([k, v]) => (Array.isArray(v) ? v.map((x) => `${k}: ${x}`) : [`${k}: ${v}`]));
      upstream.write(`${req.method} ${url} HTTP/${req.httpVersion}\r\n${headerLines.join("\r\n")}\r\n\r\n`);
      if (head.length) upstream.write(head);
      upstream.pipe(socket);
      socket.pipe(upstream);
    });
    const close = () => {
      upstream.destroy();
      socket.destroy();
    };
    upstream.on("error", close);
    socket.on("error", close);
    return;
  }
  if (nextUpgrade) return nextUpgrade(req, socket, head);
  socket.destroy();
});

server.once("error", (error: NodeJS.ErrnoException) => {
  const problem = error.code === "EADDRINUSE" ? "the port is in use by another program; stop it or set PORT to a free port" : error.message;
  console.error(`[web] cannot listen on ${e.HOST}:${e.nextPort}: ${problem}`);
  process.exit(EXIT_CANNOT_START);
});
server.listen(e.nextPort, e.HOST, () => {
  console.log(`[web] studio on ${e.origin} (${dev ? "dev" : "production"} server, listening on ${e.HOST}:${e.nextPort})`);
});

onShutdown("web", async () => {
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  server.closeIdleConnections();
  setTimeout(() => server.closeAllConnections(), 3_000).unref();
  await closed;
});
