import type { ServerResponse } from "node:http";
import { RunletError } from "../errors.js";

/**
 * The codes an HTTP client sees in `{ error: { code, message } }`. Clients match on these;
 * they are the HTTP API's own (a route, a header or a body was wrong), apart from
 * runlet's RunletError codes, which pass through as they are (e.g. JOB_UNKNOWN).
 */
export type HttpErrorCode =
  | "NOT_FOUND"
  | "METHOD_NOT_ALLOWED"
  | "HOST_NOT_ALLOWED"
  | "UNAUTHORIZED"
  | "TOKEN_NOT_CONFIGURED"
  | "PAYLOAD_TOO_LARGE"
  | "UNSUPPORTED_MEDIA_TYPE"
  | "INVALID_JSON"
  | "INVALID_BODY"
  | "INVALID_QUERY"
  | "NOT_READY"
  | "RUN_UNKNOWN"
  | "INTERNAL";

/** A refusal with its HTTP status; thrown by route handlers, turned into JSON by the server. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: HttpErrorCode | RunletError["code"],
    message: string,
    readonly headers: Record<string, string> = {},
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = "HttpError";
  }
}

/** RunletErrors a route lets through, by the status they mean over HTTP. */
const STATUS_OF: Partial<Record<RunletError["code"], number>> = {
  JOB_UNKNOWN: 404,
  BAD_INPUT: 400,
};

/** Any error as an HttpError: known RunletErrors keep their code; anything else is a 500. */
export function toHttpError(err: unknown): HttpError {
  if (err instanceof HttpError) return err;
  if (err instanceof RunletError && STATUS_OF[err.code]) return new HttpError(STATUS_OF[err.code]!, err.code, err.message, {}, { cause: err });
  return new HttpError(500, "INTERNAL", "internal error: see the runner's log", {}, { cause: err });
}

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    "content-type": "application/json; charset=utf-8",
    "content-length": Buffer.byteLength(text),
    "cache-control": "no-store",
    ...headers,
  });
  res.end(text);
}

export function sendError(res: ServerResponse, error: HttpError): void {
  sendJson(res, error.status, { error: { code: error.code, message: error.message } }, error.headers);
}
