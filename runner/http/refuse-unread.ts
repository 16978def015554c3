import { STATUS_CODES, type IncomingMessage, type ServerResponse } from "node:http";
import type { Socket } from "node:net";
import type { HttpError } from "./http-error.js";

/** How long a refused connection stays half-open for its client to read the answer. @default 1000 */
export const LINGER_MS = 1000;

/** Whether a request may still have body bytes on the wire. */
export function hasUnreadBody(req: IncomingMessage): boolean {
  if (req.complete) return false;
  return req.headers["transfer-encoding"] !== undefined || Number(req.headers["content-length"] ?? "0") > 0;
}

/**
 * Answers a refused request whose body is still arriving, without reading that body.
 *
 * Node's own response cannot do this: on keep-alive it reads the rest of the body to free
 * the connection (an unauthenticated client could make it read 300 MB), and with
 * `Connection: close` it closes the socket at once, so a client still sending gets a reset
 * and may never read the answer. Instead: stop reading, write the answer on the socket,
 * half-close (the client reads the answer and the end), and cut the connection after
 * LINGER_MS or when the server closes. Unread bytes stay in the kernel's buffers; the
 * client's writes stall there rather than being read.
 */
export function refuseUnread(req: IncomingMessage, res: ServerResponse, error: HttpError, lingerMs = LINGER_MS): void {
  const socket: Socket = req.socket;
  socket.pause();
  const body = JSON.stringify({ error: { code: error.code, message: error.message } });
  const headers: Record<string, string | number> = {
    "content-type": "application/json; charset=utf-8",
    "content-length": Buffer.byteLength(body),
    "cache-control": "no-store",
    ...error.headers,
    connection: "close",
  };
  const head = [`HTTP/1.1 ${error.status} ${STATUS_CODES[error.status] ?? ""}`, ...Object.entries(headers).map(([name, value]) => `${name}: ${value}`)];
  // The response object is never used: mark it answered, so the server's own bookkeeping
  // (logging, closing) sees the status it got.
  res.statusCode = error.status;
  socket.end(`${head.join("\r\n")}\r\n\r\n${body}`);
  const cut = setTimeout(() => socket.destroy(), lingerMs);
  cut.unref();
  socket.once("close", () => clearTimeout(cut));
}
