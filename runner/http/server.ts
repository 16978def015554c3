// node:http rather than a framework: nine routes, one JSON body shape and an SSE stream
// are a small router and a body reader; a framework would add a dependency (and its
// updates) to every install of runlet for no behaviour we need.
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { RunletError } from "../errors.js";
import type { Logger } from "../log/logger.js";
import { apiRoutes } from "./api-routes.js";
import { bearerCheck } from "./auth.js";
import { dashboardRoute } from "./dashboard.js";
import { EventStreams } from "./event-stream.js";
import { sendError, toHttpError } from "./http-error.js";
import { checkLoopbackHost, isLoopback } from "./loopback.js";
import { opsRoutes } from "./ops-routes.js";
import { matchRoute, type Route } from "./router.js";
import { createRunMetrics } from "./run-metrics.js";
import type { RunnerView } from "./runner-view.js";

export interface HttpServerOptions {
  runner: RunnerView;
  /** The port; 0 picks a free one (tests). */
  port: number;
  /** The address to bind. Anything but loopback exposes the API to the network. @default "127.0.0.1" */
  host?: string;
  /** Bearer token that routes changing state require; without one they are refused (403). Never logged. */
  token?: string;
  logger: Logger;
  /** Largest request body, in bytes; larger ones get 413. @default 65536 */
  maxBodyBytes?: number;
  /** Interval of the SSE heartbeat comment. @default 15000 */
  heartbeatMs?: number;
  /** How long `close()` waits for requests in flight (a long invoke) before cutting them. @default 5000 */
  closeGraceMs?: number;
}

export const httpDefaults = {
  host: "127.0.0.1",
  maxBodyBytes: 64 * 1024,
  heartbeatMs: 15_000,
  closeGraceMs: 5_000,
} satisfies Partial<HttpServerOptions>;

export interface HttpServer {
  /** `http://host:port`, with the port actually bound. */
  url: string;
  port: number;
  /** The address actually bound. */
  host: string;
  /** Stops accepting, ends event streams, waits for requests in flight (up to `closeGraceMs`). Safe to call twice. */
  close(): Promise<void>;
}

/** Starts the HTTP server: probes, metrics, the JSON API, live events and the dashboard. */
export async function startHttpServer(options: HttpServerOptions): Promise<HttpServer> {
  const { runner, logger } = options;
  const host = options.host ?? httpDefaults.host;
  const loopback = isLoopback(host);
  const metrics = createRunMetrics(runner);
  const streams = new EventStreams(runner, { heartbeatMs: options.heartbeatMs ?? httpDefaults.heartbeatMs, maxBufferedBytes: 1024 * 1024 });
  const routes: Route[] = [
    dashboardRoute(),
    ...opsRoutes(runner, metrics),
    ...apiRoutes({ runner, logger, requireToken: bearerCheck(options.token), maxBodyBytes: options.maxBodyBytes ?? httpDefaults.maxBodyBytes }),
    { method: "GET", path: "/api/events", handle: ({ req, res }) => streams.serve(req, res) },
  ];

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const began = performance.now();
    const target = req.url?.startsWith("/") ? req.url : "/";
    const url = new URL(`http://runlet.invalid${target}`);
    res.on("finish", () => logger.debug({ method: req.method, path: url.pathname, status: res.statusCode, durationMs: Math.round(performance.now() - began) }, "HTTP request"));
    try {
      if (loopback) checkLoopbackHost(req);
      const { route, params } = matchRoute(routes, req.method ?? "GET", url.pathname);
      await route.handle({ req, res, url, params });
    } catch (err) {
      const error = toHttpError(err);
      if (error.status >= 500) logger.error({ err, method: req.method, path: url.pathname }, "HTTP request failed");
      if (res.headersSent) res.destroy();
      else sendError(res, error);
    }
  };
  const server = createServer((req, res) => {
    busy.add(req.socket);
    res.on("close", () => busy.delete(req.socket));
    void handle(req, res);
  });
  // Sockets and those serving a request now. fetch (undici) opens spare connections that
  // never carry a request; closeIdleConnections() leaves those alone, so close() would wait
  // for them to time out (seconds) unless it ends them itself.
  const sockets = new Set<Socket>();
  const busy = new Set<Socket>();
  server.on("connection", (socket: Socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });

  await new Promise<void>((resolve, reject) => {
    server.once("error", (err) => {
      metrics.dispose();
      reject(new RunletError("BAD_INPUT", `cannot serve HTTP on ${host}:${options.port}: ${err.message}`, { cause: err }));
    });
    server.listen(options.port, host, () => resolve());
  });
  server.on("error", (err) => logger.error({ err }, "HTTP server error"));

  const address = server.address() as AddressInfo;
  const shown = address.family === "IPv6" ? `[${address.address}]` : address.address;
  const url = `http://${shown}:${address.port}`;
  logger.info({ url, auth: options.token ? "bearer token" : "none: routes that change state are refused" }, "HTTP server listening");
  if (!loopback && !options.token) {
    logger.warn({ host }, `HTTP server listens on ${host}, which is not loopback, with no token set: jobs and runs can be read from the network (set RUNLET_TOKEN; routes that change state stay refused without it)`);
  }

  let closing: Promise<void> | undefined;
  return {
    url,
    port: address.port,
    host: address.address,
    close() {
      closing ??= new Promise<void>((resolve) => {
        metrics.dispose();
        streams.closeAll();
        const cut = setTimeout(() => server.closeAllConnections(), options.closeGraceMs ?? httpDefaults.closeGraceMs);
        cut.unref();
        server.close((err) => {
          clearTimeout(cut);
          if (err) logger.warn({ err }, "HTTP server was not running when closed");
          resolve();
        });
        for (const socket of sockets) if (!busy.has(socket)) socket.destroy();
      });
      return closing;
    },
  };
}
