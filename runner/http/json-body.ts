import type { IncomingMessage } from "node:http";
import { Ajv, type ErrorObject, type ValidateFunction } from "ajv";
import { HttpError } from "./http-error.js";

/** The bodies the API takes. Schemas live in code: they are small and belong to the routes. */
export interface InvokeBody {
  /** Handed to the handler as `ctx.params`; absent: the job's own `params`. */
  params?: unknown;
}
export type EmptyBody = Record<string, never>;

const ajv = new Ajv({ allErrors: true, strict: true });

export const invokeBody = ajv.compile<InvokeBody>({
  type: "object",
  properties: { params: {} },
  additionalProperties: false,
});

export const emptyBody = ajv.compile<EmptyBody>({
  type: "object",
  additionalProperties: false,
});

export interface BodyLimits {
  /** Largest body read, in bytes; a larger one is refused with 413. @default 65536 */
  maxBytes: number;
}

/**
 * Reads a JSON body, size-limited, and validates it. An empty body reads as `{}` (every
 * body is optional); a non-empty one must be `application/json`.
 */
export async function readJsonBody<T>(req: IncomingMessage, validate: ValidateFunction<T>, limits: BodyLimits): Promise<T> {
  const bytes = await readLimited(req, limits.maxBytes);
  if (bytes.length === 0) return checked({}, validate);
  const type = (req.headers["content-type"] ?? "").split(";")[0]!.trim().toLowerCase();
  if (type !== "application/json") {
    throw new HttpError(415, "UNSUPPORTED_MEDIA_TYPE", `expected a body of Content-Type application/json (got ${type ? `"${type}"` : "none"})`);
  }
  let value: unknown;
  try {
    value = JSON.parse(bytes.toString("utf8"));
  } catch (err) {
    throw new HttpError(400, "INVALID_JSON", `the body is not valid JSON: ${(err as Error).message}`, {}, { cause: err });
  }
  return checked(value, validate);
}

function checked<T>(value: unknown, validate: ValidateFunction<T>): T {
  if (validate(value)) return value;
  throw new HttpError(400, "INVALID_BODY", `the body is not what this route takes: ${(validate.errors ?? []).map(describe).join("; ")}`);
}

function describe(e: ErrorObject): string {
  const where = e.instancePath ? `body${e.instancePath.replaceAll("/", ".")}` : "body";
  if (e.keyword === "additionalProperties") return `${where} has unknown key "${(e.params as { additionalProperty: string }).additionalProperty}"`;
  if (e.keyword === "type") return `${where} must be a JSON ${(e.params as { type: string }).type}`;
  return `${where} ${e.message ?? "is invalid"}`;
}

/**
 * The body's bytes, refusing more than `max`. A refusal stops reading there: the server
 * answers it without reading the rest (see refuse-unread.ts).
 */
function readLimited(req: IncomingMessage, max: number): Promise<Buffer> {
  const declared = Number(req.headers["content-length"] ?? "0");
  return new Promise((resolve, reject) => {
    const tooLarge = () => new HttpError(413, "PAYLOAD_TOO_LARGE", `the body is larger than ${max} bytes`);
    if (declared > max) {
      reject(tooLarge());
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > max) {
        cleanup();
        req.pause();
        reject(tooLarge());
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = () => {
      cleanup();
      resolve(Buffer.concat(chunks, size));
    };
    const onError = (err: Error) => {
      cleanup();
      reject(err);
    };
    const cleanup = () => {
      req.off("data", onData);
      req.off("end", onEnd);
      req.off("error", onError);
    };
    req.on("data", onData);
    req.on("end", onEnd);
    req.on("error", onError);
  });
}
