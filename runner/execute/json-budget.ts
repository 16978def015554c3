/**
 * Size checks on what a worker sends the main thread (a run's result, a log line) that stop
 * as soon as the answer is known: a 200 MB result must not be turned into 200 MB of JSON,
 * in any thread, only to learn that it is too big to keep.
 */

/** The JSON of a result whose JSON is longer than the store keeps (see runner/store/result-json.ts). */
export interface CutResult {
  truncated: true;
  /** Its JSON is longer than this many bytes (it was not serialized whole to count them). */
  over: number;
  /** The first {@link PREVIEW_CHARS} characters of its JSON. */
  preview: string;
}

/** Characters of JSON kept as a cut value's preview (as the store keeps). */
export const PREVIEW_CHARS = 1024;

const OVER = Symbol("over budget");

/**
 * A lower bound of the UTF-8 size of `value`'s JSON (a string counts its length plus its
 * quotes), or null as soon as it passes `maxBytes`: serialization stops there. A value
 * JSON cannot hold (a cycle) counts as what was seen of it: whoever stores it says what it is.
 */
export function jsonSizeUpTo(value: unknown, maxBytes: number): number | null {
  if (value === null || typeof value !== "object") {
    const size = sizeOf(value);
    return size <= maxBytes ? size : null;
  }
  // Most results and log fields are a few plain values: counted by a walk, without the
  // replacer (a call per value, out of V8's fast JSON path: ~0.5 µs for a one-field result, ~0.06 walked).
  const plain = plainSize(value, { left: PLAIN_VALUES });
  if (plain !== undefined) return plain <= maxBytes ? plain : null;
  let used = 0;
  try {
    JSON.stringify(value, function (this: unknown, key: string, v: unknown) {
      const size = sizeOf(v);
      if (size === 0) return v;
      // An object member's key and its quotes and colon; array indexes are not written.
      used += size + (Array.isArray(this) || key === "" ? 0 : key.length + 3);
      if (used > maxBytes) throw OVER;
      return typeof v === "bigint" ? v.toString() : v;
    });
  } catch (err) {
    if (err === OVER) return null;
  }
  return used;
}

/** Values a plain walk visits before it leaves the count to JSON.stringify (which stops at the budget). */
const PLAIN_VALUES = 256;

/**
 * The size jsonSizeUpTo counts, for a value of plain objects (no prototype other than
 * Object's, no toJSON), arrays and primitives within `budget.left` values; undefined for
 * anything else (a Date, a Map, a class instance, a cycle, too many values).
 */
function plainSize(v: unknown, budget: { left: number }): number | undefined {
  if (--budget.left < 0) return undefined;
  if (v === null || typeof v !== "object") return sizeOf(v);
  let used = 2;
  if (Array.isArray(v)) {
    for (const item of v) {
      const size = plainSize(item, budget);
      if (size === undefined) return undefined;
      used += size;
    }
    return used;
  }
  const proto: unknown = Object.getPrototypeOf(v);
  if ((proto !== Object.prototype && proto !== null) || typeof (v as { toJSON?: unknown }).toJSON === "function") return undefined;
  for (const key of Object.keys(v)) {
    const size = plainSize((v as Record<string, unknown>)[key], budget);
    if (size === undefined) return undefined;
    // As the replacer counts: a member JSON leaves out costs nothing, not even its key.
    if (size !== 0) used += size + key.length + 3;
  }
  return used;
}

/** Lower bound of the JSON size of `v` itself (an object or array counts its brackets only). */
function sizeOf(v: unknown): number {
  switch (typeof v) {
    case "string":
      return v.length + 2;
    case "number":
      return Number.isFinite(v) ? String(v).length : 4;
    case "boolean":
      return v ? 4 : 5;
    case "bigint":
      return v.toString().length + 2;
    case "object":
      return 2; // null, {} or []
    default:
      return 0; // undefined, functions, symbols: left out of objects
  }
}

/**
 * The first `chars` characters of `value`'s JSON, serializing only what they need: strings
 * are cut to `chars`, arrays and objects to their first `chars` members, and once enough
 * values were written for the prefix, the rest are written as null. Each value written
 * adds at least one character, so the prefix is the same as the whole JSON's.
 */
export function jsonPreview(value: unknown, chars: number): string {
  let visits = 0;
  try {
    const json = JSON.stringify(value, (_key: string, v: unknown) => {
      if (++visits > chars) return null;
      if (typeof v === "string") return v.length > chars ? v.slice(0, chars) : v;
      if (typeof v === "bigint") return v.toString();
      if (Array.isArray(v)) return v.length > chars ? v.slice(0, chars) : v;
      if (v !== null && typeof v === "object") {
        const keys = Object.keys(v);
        if (keys.length <= chars) return v;
        const head: Record<string, unknown> = {};
        for (const k of keys.slice(0, chars)) head[k] = (v as Record<string, unknown>)[k];
        return head;
      }
      return v;
    });
    return (json ?? "null").slice(0, chars);
  } catch (err) {
    return `[no JSON preview: ${err instanceof Error ? err.message : String(err)}]`;
  }
}

/** `value` itself when its JSON may fit in `maxBytes`, else a {@link CutResult} in its place. */
export function cutToFit(value: unknown, maxBytes: number): unknown {
  // Binary data is written by JSON one byte to a member (or all at once, by Buffer's
  // toJSON): judge it by its byte length, and preview the first bytes only.
  if (ArrayBuffer.isView(value) && value.byteLength > maxBytes) {
    const head = new Uint8Array(value.buffer, value.byteOffset, Math.min(value.byteLength, PREVIEW_CHARS));
    return { truncated: true, over: maxBytes, preview: jsonPreview(Array.from(head), PREVIEW_CHARS) } satisfies CutResult;
  }
  if (jsonSizeUpTo(value, maxBytes) !== null) return value;
  return { truncated: true, over: maxBytes, preview: jsonPreview(value, PREVIEW_CHARS) } satisfies CutResult;
}
