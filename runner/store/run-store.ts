import type { Logger } from "../log/logger.js";
import type { RunLogs, RunRecord } from "../contracts/index.js";

/** The runner process a `running` record belongs to, so a later start can tell it is gone. */
export interface RunOwner {
  pid: number;
  host: string;
}

/** A run record as written: with the owner that is running it (`null` once it has ended). */
export interface StoredRun extends RunRecord {
  owner?: RunOwner | null;
}

/**
 * The record a runner hands its store: `owner` while the run is `running`, null after.
 * Built field by field: `{ ...record, owner }` allocated ~600 bytes a record (V8 takes no
 * fast clone for a spread plus a property), two records a run.
 */
export function storedRun(record: RunRecord, owner: RunOwner): StoredRun {
  return {
    runId: record.runId,
    job: record.job,
    status: record.status,
    scheduledAt: record.scheduledAt,
    startedAt: record.startedAt,
    finishedAt: record.finishedAt,
    attempt: record.attempt,
    error: record.error,
    result: record.result,
    reason: record.reason,
    trigger: record.trigger,
    upstreamRunId: record.upstreamRunId ?? null,
    params: record.params,
    attempts: record.attempts,
    owner: record.status === "running" ? owner : null,
  };
}

/** What survives a restart for one job. */
export interface JobState {
  /** The last fire time seen, for catch-up; `null` before the first fire. */
  lastFireAt: Date | null;
  paused: boolean;
}

/**
 * Where run history lives: memory, a SQLite file, or PostgreSQL. Every method is async
 * so a networked store fits the same shape; timestamps are ISO 8601 UTC strings (what
 * `Date#toISOString` gives), which sort as text.
 */
export interface RunStore {
  /**
   * Inserts or updates a run by `runId` (written as `running` when it starts, again when
   * it ends). Never slows the caller: writes are queued and batched; the promise resolves
   * once the record is durable. A store that cannot write keeps the record and retries.
   */
  record(run: StoredRun): Promise<void>;
  /** Runs newest first (by `scheduledAt`, then `startedAt`), of one job or all, at most `limit`. */
  history(query: { job?: string; limit: number }): Promise<RunRecord[]>;
  /** The newest run of each job that has any, by job name (for `list`). */
  lastRuns(): Promise<Map<string, RunRecord>>;
  /** A job's state kept across restarts; a job never seen reads `{ lastFireAt: null, paused: false }`. */
  jobState(job: string): Promise<JobState>;
  /** Changes the fields given, keeps the others; queued and batched like `record`. */
  setJobState(job: string, patch: { lastFireAt?: Date; paused?: boolean }): Promise<void>;
  /**
   * Marks runs left `running` by an owner that `isGone` says no longer exists as `lost`
   * (their error says why) and returns them as now stored. Runs without an owner are left alone.
   */
  reapLost(isGone: (owner: RunOwner) => boolean): Promise<RunRecord[]>;
  /** Deletes all but the newest `keep` finished runs of `job`; `running` ones are kept. */
  prune(job: string, keep: number): Promise<void>;
  /**
   * Keeps a run's log lines, replacing what was kept of it before (a live run's lines so
   * far, then all of them once it ended). Queued and batched like `record`, written after
   * the records of the same turn; trimmed with the run when history drops it.
   */
  recordLogs(logs: RunLogs): Promise<void>;
  /** A run's kept log lines; null when it kept none (or it was trimmed). */
  runLogs(runId: string): Promise<RunLogs | null>;
  /** One run by its id, or by a prefix of it (the short id `history` shows: the newest run it starts); null if none. */
  findRun(id: string): Promise<RunRecord | null>;
  /** Records and state changes queued and not yet durable (non-zero while the store is failing). */
  pending(): number;
  /** Writes what is queued, then releases the store; later calls reject with STORE_WRITE. */
  close(): Promise<void>;
}

/** What every store takes besides its location. */
export interface StoreOptions {
  logger: Logger;
  /**
   * Finished runs kept per job; older ones are pruned after each write of that job.
   * The runner passes the job's `history.keep`, so a reload takes effect on the next write.
   * @default () => 100
   */
  keepFor?: (job: string) => number;
  /**
   * A run's result is stored as JSON of at most this many UTF-8 bytes; a larger one is
   * replaced by `{ truncated: true, bytes, preview }` (see `result-json.ts`).
   * @default 65536
   */
  maxResultBytes?: number;
}

export const storeDefaults = {
  keepFor: () => 100,
  maxResultBytes: 64 * 1024,
} satisfies Required<Omit<StoreOptions, "logger">>;
