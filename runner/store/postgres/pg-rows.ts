import type { RunRecord } from "../../contracts/index.js";
import { recordFromRow, type RunRowOf } from "../run-row.js";

/** A row of the runs table as the history statements select it. */
export type RunRow = RunRowOf<Date>;

/** A runs row as the record the runner reads back. */
export function toRecord(row: RunRow): RunRecord {
  return recordFromRow(row, (time) => time.toISOString());
}
