import type { RunRecord, RunStatus, RunTrigger } from "../contracts/index.js";

/**
 * A row of the runs table as both SQL stores select it. Only the time columns differ:
 * SQLite keeps ISO text, PostgreSQL hands back Dates; `T` is that type.
 */
export interface RunRowOf<T> {
  run_id: string;
  job: string;
  status: RunStatus;
  scheduled_at: T;
  started_at: T | null;
  finished_at: T | null;
  attempt: number;
  error: string | null;
  result: string;
  reason: string | null;
  trigger_kind: RunTrigger | null;
  upstream_run_id: string | null;
  /** JSON; null in a row written before runlet recorded params. */
  params: string | null;
  /** JSON; null for a run that keeps no tries (and in rows written before runlet kept them). */
  attempts: string | null;
}

/** A runs row as the record the runner reads back; `iso` turns the store's time into ISO text. */
export function recordFromRow<T>(row: RunRowOf<T>, iso: (time: T) => string): RunRecord {
  const record: RunRecord = {
    runId: row.run_id,
    job: row.job,
    status: row.status,
    scheduledAt: iso(row.scheduled_at),
    startedAt: row.started_at === null ? null : iso(row.started_at),
    finishedAt: row.finished_at === null ? null : iso(row.finished_at),
    attempt: row.attempt,
    error: row.error === null ? null : JSON.parse(row.error),
    result: JSON.parse(row.result),
    reason: row.reason,
  };
  if (row.trigger_kind !== null) record.trigger = row.trigger_kind;
  if (row.upstream_run_id) record.upstreamRunId = row.upstream_run_id;
  if (row.params !== null) record.params = JSON.parse(row.params);
  if (row.attempts !== null) record.attempts = JSON.parse(row.attempts);
  return record;
}
