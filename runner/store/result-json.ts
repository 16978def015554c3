import type { RunAttempt, RunError } from "../contracts/index.js";
import type { JobTrigger } from "../context.js";

/**
 * How results and errors are kept, the same in every store, so that `history` reads the
 * same from memory, SQLite and PostgreSQL.
 *
 * A result is stored as JSON. Handler results are structured-cloneable, which is wider
 * than JSON: a `Date` becomes its ISO string, a `bigint` its decimal string, `undefined`
 * becomes `null`, and a `Map`/`Set` becomes `{}` (as `JSON.stringify` does). A result
 * that JSON cannot hold at all (a cycle) is stored as `{ unserializable: true, message }`.
 *
 * A result whose JSON is longer than `maxBytes` UTF-8 bytes is stored as
 * `{ truncated: true, bytes, preview }`: `bytes` is the full JSON's size, `preview` its
 * first {@link PREVIEW_CHARS} characters. One huge result must not bloat every later
 * `history` read, and a run's record is no place for bulk data.
 */
export const PREVIEW_CHARS = 1024;

/** Longest error message or stack kept, in characters; a runaway message is cut, with a note. */
export const MAX_ERROR_TEXT = 16 * 1024;

export interface TruncatedResult {
  truncated: true;
  bytes: number;
  preview: string;
}

/** The JSON text stored for a result: never throws, never longer than `maxBytes` (plus the note). */
export function encodeResult(result: unknown, maxBytes: number): string {
  let json: string | undefined;
  try {
    // Without a replacer first: JSON.stringify calling a function for every value is several
    // times slower, and results holding a bigint are rare. A result is structured-cloned
    // data (no getters, no toJSON of its own), so stringifying it twice changes nothing.
    json = JSON.stringify(result);
  } catch {
    try {
      json = JSON.stringify(result, (_key, value: unknown) => (typeof value === "bigint" ? value.toString() : value));
    } catch (err) {
      return JSON.stringify({ unserializable: true, message: err instanceof Error ? err.message : String(err) });
    }
  }
  if (json === undefined) return "null";
  // Cheap bound first: a UTF-8 byte is at most 3 per UTF-16 unit, so short strings skip the count.
  if (json.length * 3 <= maxBytes) return json;
  const bytes = Buffer.byteLength(json);
  if (bytes <= maxBytes) return json;
  const cut: TruncatedResult = { truncated: true, bytes, preview: sliceChars(json, PREVIEW_CHARS) };
  return JSON.stringify(cut);
}

/** The error as stored: only the fields of {@link RunError}, long texts cut. */
export function encodeError(error: RunError | null): RunError | null {
  if (!error) return null;
  const stored: RunError = { message: capText(String(error.message)) };
  if (error.code !== undefined) stored.code = String(error.code);
  if (error.stack !== undefined) stored.stack = capText(String(error.stack));
  return stored;
}

function capText(text: string): string {
  if (text.length <= MAX_ERROR_TEXT) return text;
  return `${sliceChars(text, MAX_ERROR_TEXT)}… [${text.length - MAX_ERROR_TEXT} more characters cut]`;
}

/** The first `n` UTF-16 units, without leaving half of a surrogate pair at the end. */
function sliceChars(text: string, n: number): string {
  const head = text.slice(0, n);
  const last = head.charCodeAt(head.length - 1);
  return last >= 0xd800 && last <= 0xdbff ? head.slice(0, -1) : head;
}

/** A run's tries as stored (JSON), or null for a run that keeps none. Each is small: times, a status, a capped message. */
export function encodeAttempts(attempts: RunAttempt[] | undefined): string | null {
  return attempts === undefined ? null : JSON.stringify(attempts);
}

const paramsText = new WeakMap<object, string>();

/**
 * A run's kept params as stored: JSON, bounded as a result is (a runaway invoke is cut the
 * same way); null when the record has none. The records of a job's scheduled fires share
 * one kept object, so its text is made once, not twice per run.
 */
export function encodeParams(params: unknown, maxBytes: number): string | null {
  if (params === undefined) return null;
  if (params === null || typeof params !== "object") return encodeResult(params, maxBytes);
  let text = paramsText.get(params);
  if (text === undefined) paramsText.set(params, (text = encodeResult(params, maxBytes)));
  return text;
}

/** A triggered run's ctx.trigger as kept with its claim: the upstream's result bounded as results are (`maxBytes`, the store's). */
export function causeJson(cause: JobTrigger, maxBytes: number): string {
  if (cause.kind !== "after") return JSON.stringify(cause);
  return JSON.stringify({ ...cause, result: JSON.parse(encodeResult(cause.result, maxBytes)) });
}
