import type { RunRecord } from "../../contracts/index.js";
import { recordFromRow, type RunRowOf } from "../run-row.js";

/** A row of the runs table as the history statements select it. */
export type RunRow = RunRowOf<Date>;

/** A runs row as the record the runner reads back. */
export function toRecord(row: RunRow): RunRecord {
  return recordFromRow(row, (time) => time.toISOString());
}

/** A `\u0000` escape in JSON text: one not itself after an escaped backslash (`\\u0000` is text). */
const NUL_ESCAPE = /(?<!\\)((?:\\\\)*)\\u0000/g;

/**
 * JSON text as PostgreSQL can take it: its NUL characters (which JSON.stringify writes
 * as `\u0000`) become U+FFFD. jsonb rejects the escape and text columns the character, so
 * one handler's NUL (in an error, a result, params, a log line) failed its whole batch,
 * on every retry. Applied to each JSON column's text and to the batch carrying them.
 */
export function withoutNul(json: string): string {
  return json.includes("\\u0000") ? json.replace(NUL_ESCAPE, "$1\uFFFD") : json;
}
