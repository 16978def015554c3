// node:http rather than a framework: nine routes, one JSON body shape and an SSE stream
// are a small router and a body reader; a framework would add a dependency (and its
// updates) to every install of runlet for no behaviour we need.
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { RunletError } from "../errors.js";
import type { Logger } from "../log/logger.js";
import { apiRoutes } from "./api-routes.js";
import { runRoutes } from "./run-routes.js";
import { runPageRoute } from "./run-page.js";
import { bearerCheck } from "./auth.js";
import { dashboardRoute } from "./dashboard.js";
import { EventStreams } from "./event-stream.js";
import { HttpError, sendError, toHttpError } from "./http-error.js";
import { allowedHostsFor, checkAllowedHost } from "./allowed-hosts.js";
import { checkExposure } from "./exposure.js";
import { checkLoopbackHost, isLoopback } from "./loopback.js";
import { hasUnreadBody, refuseUnread } from "./refuse-unread.js";
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
  /** Bearer token that routes changing state require (off loopback: every `/api` route); without one they are refused (403). Never logged. */
  token?: string;
  /** Serve off loopback without a token (reads open to the network). Without it, that is refused. @default false */
  insecure?: boolean;
  /** Off loopback, the Host names served: comma-separated, `*` for any. @default RUNLET_ALLOWED_HOSTS, else the bound address and its names */
  allowedHosts?: string;
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

/** A declared body over the limit is refused before a byte of it is read. */
function checkDeclaredSize(req: IncomingMessage, maxBytes: number): void {
  if (Number(req.headers["content-length"] ?? "0") > maxBytes) {
    throw new HttpError(413, "PAYLOAD_TOO_LARGE", `the body is larger than ${maxBytes} bytes`);
  }
}

/** Starts the HTTP server: probes, metrics, the JSON API, live events and the dashboard. */
export async function startHttpServer(options: HttpServerOptions): Promise<HttpServer> {
  const { runner, logger } = options;
  const host = options.host ?? httpDefaults.host;
  checkExposure({ host, token: options.token, insecure: options.insecure });
  const loopback = isLoopback(host);
  const allowedHosts = loopback ? null : allowedHostsFor(host, options.allowedHosts ?? process.env.RUNLET_ALLOWED_HOSTS);
  const requireToken = bearerCheck(options.token);
  const maxBodyBytes = options.maxBodyBytes ?? httpDefaults.maxBodyBytes;
  const metrics = createRunMetrics(runner);
  const streams = new EventStreams(runner, { heartbeatMs: options.heartbeatMs ?? httpDefaults.heartbeatMs, maxBufferedBytes: 1024 * 1024 });
  const routes: Route[] = [
    dashboardRoute({ runner, readsNeedToken: Boolean(allowedHosts && options.token) }),
    ...opsRoutes(runner, metrics),
    ...apiRoutes({ runner, logger, requireToken, maxBodyBytes }),
    ...runRoutes(runner),
    runPageRoute({ runner, readsNeedToken: Boolean(allowedHosts && options.token), requireToken }),
    { method: "GET", path: "/api/events", handle: ({ req, res, url }) => streams.serve(req, res, url) },
  ];

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const began = performance.now();
    const target = req.url?.startsWith("/") ? req.url : "/";
    const url = new URL(`http://runlet.invalid${target}`);
    const logRequest = () => logger.debug({ method: req.method, path: url.pathname, status: res.statusCode, durationMs: Math.round(performance.now() - began) }, "HTTP request");
    res.on("finish", logRequest);
    try {
      // Everything a request could be refused for is checked before its body is read.
      if (allowedHosts) checkAllowedHost(req, allowedHosts);
      else checkLoopbackHost(req);
      // Off loopback, reads need the token too: run results and errors may hold secrets.
      if (allowedHosts && options.token && (url.pathname === "/api" || url.pathname.startsWith("/api/"))) requireToken(req);
      checkDeclaredSize(req, maxBodyBytes);
      const { route, params } = matchRoute(routes, req.method ?? "GET", url.pathname);
      await route.handle({ req, res, url, params });
    } catch (err) {
      const error = toHttpError(err);
      if (error.status >= 500) logger.error({ err, method: req.method, path: url.pathname }, "HTTP request failed");
      if (res.headersSent) {
        res.destroy();
      } else if (hasUnreadBody(req)) {
        busy.delete(req.socket);
        refuseUnread(req, res, error);
        logRequest();
      } else {
        sendError(res, error);
      }
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
  logger.info({ event: "http-listening", url, auth: options.token ? (loopback ? "bearer token for routes that change state" : "bearer token for every /api route") : "none: routes that change state are refused" }, "HTTP server listening");
  if (!loopback && !options.token) {
    logger.warn({ host }, `HTTP server listens on ${host}, which is not loopback, with no token (--insecure): jobs and runs can be read from the network (set RUNLET_TOKEN; routes that change state stay refused without it)`);
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
