import type { RunRecord } from "../../contracts/index.js";
import { recordFromRow, type RunRowOf } from "../run-row.js";

/** A row of the runs table as the history statements select it. */
export type RunRow = RunRowOf<Date>;

/** A runs row as the record the runner reads back. */
export function toRecord(row: RunRow): RunRecord {
  return recordFromRow(row, (time) => time.toISOString());
}

/**
 * A `\u0000` escape in JSON text, or a lone surrogate's (`\ud800`–`\udfff`: JSON.stringify
 * escapes only those, a pair it writes as is): one not itself after an escaped backslash
 * (`\\u0000` is text).
 */
const BAD_ESCAPE = /(?<!\\)((?:\\\\)*)\\u(?:0000|d[89a-f][0-9a-f]{2})/gi;
/** Whether JSON text may hold such an escape: the common text holds neither, and skips the replace. */
const MAY_HOLD_BAD = /\\u(?:0000|d[89a-f])/i;

/**
 * JSON text as PostgreSQL can take it: its NUL characters (which JSON.stringify writes
 * as `\u0000`) become U+FFFD. jsonb rejects the escape and text columns the character, so
 * one handler's NUL (in an error, a result, params, a log line) failed its whole batch,
 * on every retry; so did a lone surrogate (a handler's text cut inside an emoji), which
 * jsonb rejects too. Applied to each JSON column's text and to the batch carrying them.
 */
export function withoutNul(json: string): string {
  return MAY_HOLD_BAD.test(json) ? json.replace(BAD_ESCAPE, "$1\uFFFD") : json;
}
