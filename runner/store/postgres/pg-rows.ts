import type { RunRecord, RunStatus, RunTrigger } from "../../contracts/index.js";

/** A row of the runs table as the history statements select it. */
export interface RunRow {
  run_id: string;
  job: string;
  status: RunStatus;
  scheduled_at: Date;
  started_at: Date | null;
  finished_at: Date | null;
  attempt: number;
  error: string | null;
  result: string;
  reason: string | null;
  trigger_kind: RunTrigger | null;
  upstream_run_id: string | null;
}

/** A runs row as the record the runner reads back. */
export function toRecord(row: RunRow): RunRecord {
  const record: RunRecord = {
    runId: row.run_id,
    job: row.job,
    status: row.status,
    scheduledAt: row.scheduled_at.toISOString(),
    startedAt: row.started_at?.toISOString() ?? null,
    finishedAt: row.finished_at?.toISOString() ?? null,
    attempt: row.attempt,
    error: row.error === null ? null : JSON.parse(row.error),
    result: JSON.parse(row.result),
    reason: row.reason,
  };
  if (row.trigger_kind !== null) record.trigger = row.trigger_kind;
  if (row.upstream_run_id) record.upstreamRunId = row.upstream_run_id;
  return record;
}
