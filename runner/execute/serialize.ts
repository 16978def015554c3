/**
 * Errors across a thread boundary: structured cloning keeps an Error's name, message and stack
 * but drops `code`, `cause` and any other own field, which records and logs need.
 */
import type { SerializedError } from "./protocol.js";

/** Flattens anything thrown into a {@link SerializedError}; `depth` bounds `cause` chains. */
export function serializeError(err: unknown, depth = 3): SerializedError {
  if (err instanceof Error || (typeof err === "object" && err !== null && "message" in err)) {
    const e = err as Error & { code?: unknown };
    const out: SerializedError = { name: String(e.name ?? "Error"), message: String(e.message) };
    if (typeof e.stack === "string") out.stack = e.stack;
    if (typeof e.code === "string" || typeof e.code === "number") out.code = e.code;
    if (e.cause !== undefined && depth > 0) out.cause = serializeError(e.cause, depth - 1);
    return out;
  }
  // A thrown string, number, plain object...: keep what it said.
  return { name: "NonError", message: typeof err === "string" ? err : safeString(err) };
}

const builtInErrors: Record<string, ErrorConstructor> = { Error, TypeError, RangeError, SyntaxError, ReferenceError, EvalError, URIError };

/**
 * The inverse of {@link serializeError}: an Error with the same name, message, stack and code,
 * of the same built-in class when it was one (pino's err serializer reports the class name).
 */
export function deserializeError(s: SerializedError): Error & { code?: string | number } {
  const Ctor = builtInErrors[s.name] ?? Error;
  const err: Error & { code?: string | number } = new Ctor(s.message, s.cause ? { cause: deserializeError(s.cause) } : undefined);
  // Not enumerable, as on the original: an own enumerable `name` would show up in logged fields.
  if (err.name !== s.name) Object.defineProperty(err, "name", { value: s.name, writable: true, configurable: true, enumerable: false });
  if (s.stack !== undefined) err.stack = s.stack;
  if (s.code !== undefined) err.code = s.code;
  return err;
}

/** A logged Error as it crosses the thread, with its own fields (`code`, pg's `detail`...) that pino logs. */
export interface PackedError {
  __runletLoggedError: SerializedError;
  fields: Record<string, unknown>;
}

/** Wraps the Errors of a log object (itself, or its top-level values) so their fields survive. */
export function packLogObject(obj: unknown): unknown {
  if (obj instanceof Error) return packError(obj);
  if (typeof obj !== "object" || obj === null || Array.isArray(obj)) return obj;
  let out: Record<string, unknown> | null = null;
  for (const [key, value] of Object.entries(obj)) {
    if (value instanceof Error) (out ??= { ...obj })[key] = packError(value);
  }
  return out ?? obj;
}

/** The inverse of {@link packLogObject}: real Errors again, for pino's err serializer. */
export function unpackLogObject(obj: unknown): unknown {
  if (isPacked(obj)) return unpackError(obj);
  if (typeof obj !== "object" || obj === null || Array.isArray(obj)) return obj;
  let out: Record<string, unknown> | null = null;
  for (const [key, value] of Object.entries(obj)) {
    if (isPacked(value)) (out ??= { ...obj })[key] = unpackError(value);
  }
  return out ?? obj;
}

function packError(err: Error): PackedError {
  const fields: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(err)) {
    if (value === null || typeof value !== "object" && typeof value !== "function" && typeof value !== "symbol") fields[key] = value;
  }
  return { __runletLoggedError: serializeError(err), fields };
}

function unpackError(packed: PackedError): Error {
  return Object.assign(deserializeError(packed.__runletLoggedError), packed.fields);
}

function isPacked(value: unknown): value is PackedError {
  return typeof value === "object" && value !== null && "__runletLoggedError" in value;
}

function safeString(value: unknown): string {
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    // Circular or BigInt-holding values: String() always gives something readable.
    return String(value);
  }
}
