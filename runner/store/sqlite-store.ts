import { resolve } from "node:path";
import type Database from "better-sqlite3";
import { RunletError } from "../errors.js";
import type { RunRecord, RunStatus, RunTrigger } from "../contracts/index.js";
import { lostError } from "./owner.js";
import { encodeAttempts, encodeError, encodeParams, encodeResult } from "./result-json.js";
import { storeDefaults, type JobState, type RunOwner, type RunStore, type StoreOptions, type StoredRun } from "./run-store.js";
import type { SoleOwnerStore, StoreOwner } from "./sole-owner.js";
import { openDatabase } from "./sqlite-schema.js";
import { recordFromRow, type RunRowOf } from "./run-row.js";
import { SqliteLogs } from "./sqlite-logs.js";
import type { RunLogs } from "../contracts/index.js";
import { WriteQueue, type WriteBatch } from "./write-queue.js";

export interface SqliteStoreOptions extends StoreOptions {
  /**
   * How long a write waits for another process's lock. Writes run on the main thread, so
   * this is kept short: a longer lock fails the batch, which is kept and retried.
   * @default 250
   */
  busyTimeoutMs?: number;
  /** How long opening waits for another process's lock. @default 5000 */
  openTimeoutMs?: number;
  /** First retry delay after a failed write (doubling, up to 30 s). @default 1000 */
  retryMs?: number;
}

export const sqliteDefaults = {
  busyTimeoutMs: 250,
  openTimeoutMs: 5000,
  retryMs: 1000,
} satisfies Required<Omit<SqliteStoreOptions, keyof StoreOptions>>;

/** Opens (or creates, with its folder) the SQLite file at `file`; see {@link SqliteStore}. */
export async function openSqliteStore(file: string, options: SqliteStoreOptions): Promise<SqliteStore> {
  return new SqliteStore(resolve(file), options);
}

interface RunRow extends RunRowOf<string> {
  id: number;
  owner_pid: number | null;
  owner_host: string | null;
}

const NEWEST_FIRST = "ORDER BY scheduled_at DESC, started_at DESC, id DESC";

/**
 * Run history in one SQLite file (better-sqlite3, WAL). `record` and `setJobState` only
 * queue; a {@link WriteQueue} writes each turn's batch in one transaction, then prunes the
 * jobs it touched to their `keepFor` newest finished runs. Reads write the queue first,
 * so a caller reads its own writes.
 */
export class SqliteStore implements RunStore, SoleOwnerStore {
  readonly file: string;
  private readonly db: Database.Database;
  private readonly queue: WriteQueue;
  private readonly keepFor: (job: string) => number;
  private readonly maxResultBytes: number;
  private readonly sql: ReturnType<typeof prepareStatements>;
  private readonly openTimeoutMs: number;
  private readonly logs: SqliteLogs;

  /** Opens synchronously; {@link openSqliteStore} is the async door the interface expects. */
  constructor(file: string, options: SqliteStoreOptions) {
    this.file = file;
    this.keepFor = options.keepFor ?? storeDefaults.keepFor;
    this.maxResultBytes = options.maxResultBytes ?? storeDefaults.maxResultBytes;
    this.openTimeoutMs = options.openTimeoutMs ?? sqliteDefaults.openTimeoutMs;
    this.db = openDatabase(file, {
      logger: options.logger,
      openTimeoutMs: this.openTimeoutMs,
      busyTimeoutMs: options.busyTimeoutMs ?? sqliteDefaults.busyTimeoutMs,
    });
    this.sql = prepareStatements(this.db);
    const writeBatch = this.db.transaction((batch: WriteBatch) => this.writeBatch(batch));
    this.queue = new WriteQueue({
      // IMMEDIATE takes the write lock up front: a deferred one could fail half-way on upgrade.
      write: (batch) => writeBatch.immediate(batch),
      logger: options.logger,
      target: file,
      retryMs: options.retryMs ?? sqliteDefaults.retryMs,
    });
    this.logs = new SqliteLogs(this.db, options.logger, file, () => this.queue.settle());
  }

  recordLogs(logs: RunLogs): Promise<void> {
    return this.logs.add(logs);
  }

  async runLogs(runId: string): Promise<RunLogs | null> {
    await this.queue.settle();
    await this.logs.settle();
    return this.read(() => this.logs.read(runId));
  }

  async findRun(id: string): Promise<RunRecord | null> {
    await this.queue.settle();
    const row = this.read(() => this.sql.findRun.get({ id, prefix: id.replace(/[\\%_]/g, "\\$&") })) as RunRow | undefined;
    return row ? toRecord(row) : null;
  }

  record(run: StoredRun): Promise<void> {
    return this.queue.addRun(run);
  }

  async history(query: { job?: string; limit: number }): Promise<RunRecord[]> {
    await this.queue.settle();
    const limit = Math.max(0, Math.floor(query.limit));
    const rows = this.read(() => (query.job === undefined ? this.sql.history.all(limit) : this.sql.jobHistory.all(query.job, limit))) as RunRow[];
    return rows.map(toRecord);
  }

  async lastRuns(): Promise<Map<string, RunRecord>> {
    await this.queue.settle();
    const rows = this.read(() => this.sql.lastRuns.all()) as RunRow[];
    return new Map(rows.map((row) => [row.job, toRecord(row)]));
  }

  async jobState(job: string): Promise<JobState> {
    await this.queue.settle();
    const row = this.read(() => this.sql.getState.get(job)) as { last_fire_at: number | null; paused: number } | undefined;
    // Changes not yet durable (the store is failing) still count: they are this process's truth.
    const queued = this.queue.pendingState(job);
    const lastFireAt = queued?.lastFireAt?.getTime() ?? row?.last_fire_at ?? null;
    return { lastFireAt: lastFireAt === null ? null : new Date(lastFireAt), paused: queued?.paused ?? row?.paused === 1 };
  }

  setJobState(job: string, patch: { lastFireAt?: Date; paused?: boolean }): Promise<void> {
    return this.queue.addState(job, patch);
  }

  async reapLost(isGone: (owner: RunOwner) => boolean): Promise<RunRecord[]> {
    await this.queue.settle();
    const reap = this.db.transaction(() => {
      const reaped: RunRecord[] = [];
      for (const row of this.sql.running.all() as RunRow[]) {
        const owner = { pid: row.owner_pid!, host: row.owner_host ?? "" };
        if (!isGone(owner)) continue;
        const error = lostError(owner);
        this.sql.markLost.run(JSON.stringify(error), row.id);
        reaped.push(toRecord({ ...row, status: "lost", error: JSON.stringify(error) }));
      }
      return reaped;
    });
    return this.write("marking lost runs", () => reap.immediate());
  }

  async prune(job: string, keep: number): Promise<void> {
    await this.queue.settle();
    this.write(`pruning job ${job}`, () => this.sql.prune.run(job, Math.max(0, Math.floor(keep))));
  }

  pending(): number {
    return this.queue.size + this.logs.size;
  }

  get where(): string {
    return this.file;
  }

  async takeOwnership(owner: StoreOwner, isGone: (held: RunOwner) => boolean): Promise<StoreOwner | null> {
    // IMMEDIATE: read and write under one write lock, so two runners starting together cannot both take it.
    const take = this.db.transaction(() => {
      const held = this.sql.getOwner.get() as StoreOwner | undefined;
      const self = held && held.pid === owner.pid && held.host === owner.host;
      if (held && !self && !isGone(held)) return { pid: held.pid, host: held.host, since: held.since };
      this.sql.setOwner.run(owner.pid, owner.host, owner.since);
      return null;
    });
    return this.write("taking ownership of the store", () => take.immediate());
  }

  async releaseOwnership(owner: RunOwner): Promise<void> {
    if (!this.db.open) return;
    this.write("releasing ownership of the store", () => this.sql.dropOwner.run(owner.pid, owner.host));
  }

  async close(): Promise<void> {
    if (!this.db.open) return;
    try {
      // Shutdown is off the hot path: the last flush may wait for a lock as long as opening does.
      this.db.pragma(`busy_timeout = ${this.openTimeoutMs}`);
      await this.queue.close();
      await this.logs.close();
    } finally {
      this.db.close();
    }
  }

  /** One batch, inside the queue's transaction. */
  private writeBatch(batch: WriteBatch): void {
    const jobs = new Set<string>();
    for (const run of batch.runs) {
      const error = encodeError(run.error);
      this.sql.upsert.run(
        run.runId, run.job, run.status, run.scheduledAt, run.startedAt, run.finishedAt, run.attempt,
        error ? JSON.stringify(error) : null, encodeResult(run.result, this.maxResultBytes),
        run.reason ?? null, run.trigger ?? null, run.upstreamRunId ?? null, encodeParams(run.params, this.maxResultBytes), encodeAttempts(run.attempts), run.owner?.pid ?? null, run.owner?.host ?? null,
      );
      if (run.status !== "running") jobs.add(run.job);
    }
    for (const [job, patch] of batch.states) {
      this.sql.setState.run({ job, lastFireAt: patch.lastFireAt?.getTime() ?? null, paused: patch.paused === undefined ? null : Number(patch.paused) });
    }
    // Retention rides on the batch: only jobs that just gained a finished run can exceed `keep`.
    for (const job of jobs) this.sql.prune.run(job, Math.max(0, Math.floor(this.keepFor(job))));
  }

  private read<T>(query: () => T): T {
    try {
      return query();
    } catch (err) {
      throw new RunletError("STORE_OPEN", `cannot read the run history ${this.file}: ${(err as Error).message}`, { cause: err });
    }
  }

  private write<T>(what: string, change: () => T): T {
    try {
      return change();
    } catch (err) {
      throw new RunletError("STORE_WRITE", `${what} in ${this.file} failed: ${(err as Error).message}`, { cause: err });
    }
  }
}

/** Every statement the store runs, prepared once. */
function prepareStatements(db: Database.Database) {
  return {
    upsert: db.prepare(
      `INSERT INTO runs (run_id, job, status, scheduled_at, started_at, finished_at, attempt, error, result, reason, trigger_kind, upstream_run_id, params, attempts, owner_pid, owner_host)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (run_id) DO UPDATE SET job = excluded.job, status = excluded.status, scheduled_at = excluded.scheduled_at,
         started_at = excluded.started_at, finished_at = excluded.finished_at, attempt = excluded.attempt, error = excluded.error,
         result = excluded.result, reason = excluded.reason, trigger_kind = excluded.trigger_kind, upstream_run_id = excluded.upstream_run_id,
         params = coalesce(excluded.params, params), attempts = coalesce(excluded.attempts, attempts), owner_pid = excluded.owner_pid, owner_host = excluded.owner_host`,
    ),
    setState: db.prepare(
      `INSERT INTO job_state (job, last_fire_at, paused) VALUES (@job, @lastFireAt, coalesce(@paused, 0))
       ON CONFLICT (job) DO UPDATE SET last_fire_at = coalesce(@lastFireAt, last_fire_at), paused = coalesce(@paused, paused)`,
    ),
    getState: db.prepare("SELECT last_fire_at, paused FROM job_state WHERE job = ?"),
    prune: db.prepare(`DELETE FROM runs WHERE id IN (SELECT id FROM runs WHERE job = ? AND status <> 'running' ${NEWEST_FIRST} LIMIT -1 OFFSET ?)`),
    history: db.prepare(`SELECT * FROM runs ${NEWEST_FIRST} LIMIT ?`),
    jobHistory: db.prepare(`SELECT * FROM runs WHERE job = ? ${NEWEST_FIRST} LIMIT ?`),
    lastRuns: db.prepare(
      `SELECT r.* FROM (SELECT DISTINCT job FROM runs) AS j
       JOIN runs AS r ON r.id = (SELECT id FROM runs WHERE job = j.job ${NEWEST_FIRST} LIMIT 1)`,
    ),
    running: db.prepare("SELECT * FROM runs WHERE status = 'running' AND owner_pid IS NOT NULL"),
    // The exact id first, else the newest run the prefix starts (LIKE on run_id, escaped).
    findRun: db.prepare(`SELECT * FROM runs WHERE run_id = @id OR run_id LIKE @prefix || '%' ESCAPE '\\' ORDER BY run_id = @id DESC, scheduled_at DESC, started_at DESC, id DESC LIMIT 1`),
    getOwner: db.prepare("SELECT pid, host, since FROM runner_owner WHERE id = 1"),
    setOwner: db.prepare("INSERT INTO runner_owner (id, pid, host, since) VALUES (1, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET pid = excluded.pid, host = excluded.host, since = excluded.since"),
    dropOwner: db.prepare("DELETE FROM runner_owner WHERE pid = ? AND host = ?"),
    markLost: db.prepare("UPDATE runs SET status = 'lost', error = ?, owner_pid = NULL, owner_host = NULL WHERE id = ? AND status = 'running'"),
  };
}

function toRecord(row: RunRow): RunRecord {
  return recordFromRow(row, (time) => time);
}
