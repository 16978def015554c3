import { randomBytes } from "node:crypto";
import { hostname } from "node:os";
import pg from "pg";
import { RunletError } from "../../errors.js";
import type { Logger } from "../../log/logger.js";
import type { RunRecord } from "../../contracts/index.js";
import { encodeAttempts, encodeError, encodeParams, encodeResult } from "../result-json.js";
import { storeDefaults, type JobState, type RunStore, type StoreOptions } from "../run-store.js";
import { WriteQueue, type WriteBatch } from "../write-queue.js";
import { claimStatements } from "./claim-sql.js";
import type { AcquiredRun, ExpiredRun, FencedRun, FireClaim, FireClaimRequest, FireClaims, ReplicaRow } from "../fire-claims.js";
import { historyStatements } from "./history-sql.js";
import { describeStoreError as describePgError } from "../store-errors.js";
import { retryLostToLocks } from "./transient.js";
import { inTransaction } from "./transaction.js";
import { postgresSettings, type PostgresSettings } from "./pg-config.js";
import { migrate } from "./pg-schema.js";
import { ensureLogTable, PostgresLogs } from "./pg-logs.js";
import type { RunLogs } from "../../contracts/index.js";
import { PgFireClaims } from "./pg-fire-claims.js";
import { toRecord, withoutNul, type RunRow } from "./pg-rows.js";

export interface PostgresStoreOptions extends StoreOptions {
  /** The schema runlet's tables live in. @default the URL's `?schema=`, else "runlet" */
  schema?: string;
  /** @default the URL's `?lease=`, else 30 s */
  leaseMs?: number;
  /** @default the URL's `?reap=`, else min(5 s, lease / 3) */
  reapMs?: number;
  /** How long before its time a scheduled fire is claimed; 0: at its time. @default the URL's `?claimAhead=`, else 500 ms (at most lease / 3) */
  claimAheadMs?: number;
  /** `application_name` of the pool's sessions. @default "runlet" */
  applicationName?: string;
  /** Each job fired by one preferred replica (false: every replica fires every job, the claim picks one). @default the URL's `?partition=`, else true */
  partition?: boolean;
}

const CHECKED = new WeakSet<pg.PoolClient>();

/** How often finished runs are pruned to each job's `keep` (off the write path). */
const PRUNE_EVERY_MS = 5_000;

/**
 * Connects, creates or migrates the schema, and returns the store. Any failure (bad URL,
 * unknown host, wrong credentials, database down) is a RunletError STORE_OPEN naming
 * the user, host and database, never the password.
 */
export async function openPostgresStore(url: string, options: PostgresStoreOptions): Promise<PostgresStore> {
  const settings = postgresSettings(url, options);
  const store = new PostgresStore(settings, options);
  try {
    await migrate(store.pool, settings.schema, options.logger);
    await ensureLogTable(store.pool, settings.schema);
  } catch (err) {
    await store.pool.end().catch((endErr: unknown) => options.logger.warn({ err: endErr }, "closing the pool after a failed open failed"));
    if (err instanceof RunletError) throw err;
    throw new RunletError("STORE_OPEN", `cannot open the PostgreSQL run history at ${settings.where}: ${describePgError(err)}`, { cause: err });
  }
  store.startPruning();
  return store;
}


/**
 * Run history in PostgreSQL, shared by every replica pointed at the same database and
 * schema, plus the claim capability ({@link FireClaims}) that makes each fire run once in
 * the group. Records are queued and batched like the SQLite store's (one statement per
 * batch); claims and leases go straight to the database.
 */
export class PostgresStore implements RunStore, FireClaims {
  readonly pool: pg.Pool;
  readonly owner = `${hostname()}:${process.pid}:${randomBytes(3).toString("hex")}`;
  readonly leaseMs: number;
  readonly reapMs: number;
  readonly claimAheadMs: number;
  readonly partitioned: boolean;
  readonly where: string;
  private readonly queue: WriteQueue;
  private readonly logger: Logger;
  private readonly keepFor: (job: string) => number;
  private readonly maxResultBytes: number;
  private readonly sql: ReturnType<typeof historyStatements>;
  private readonly fireClaims: PgFireClaims;
  private readonly touched = new Set<string>();
  private pruneTimer: NodeJS.Timeout | null = null;
  private closed = false;
  private readonly logs: PostgresLogs;

  constructor(settings: PostgresSettings, options: PostgresStoreOptions) {
    this.logger = options.logger;
    this.leaseMs = settings.leaseMs;
    this.reapMs = settings.reapMs;
    this.claimAheadMs = settings.claimAheadMs;
    this.partitioned = settings.partitioned;
    this.where = settings.where;
    this.keepFor = options.keepFor ?? storeDefaults.keepFor;
    this.maxResultBytes = options.maxResultBytes ?? storeDefaults.maxResultBytes;
    this.sql = historyStatements(settings.schema);
    this.pool = new pg.Pool(settings.pool);
    this.fireClaims = new PgFireClaims(claimStatements(settings.schema), {
      pool: this.pool, owner: this.owner, leaseMs: this.leaseMs, reapMs: this.reapMs, logger: this.logger,
      answered: () => this.answered(), checkout: () => this.checkout(),
    });
    // An idle client whose connection dies (server restart, pg_terminate_backend) emits
    // here; without a listener that would crash the process. The pool drops the client
    // and the next query opens a new connection.
    this.pool.on("error", (err) => this.logger.warn({ err: { message: err.message, code: (err as { code?: string }).code } }, `PostgreSQL connection lost (${this.where}); reconnecting on the next query`));
    this.queue = new WriteQueue({ write: (batch) => this.writeBatch(batch), logger: this.logger, target: this.where });
    this.logs = new PostgresLogs(this.pool, settings.schema, this.logger, this.where, () => this.queue.settle());
  }

  recordLogs(logs: RunLogs): Promise<void> {
    return this.logs.add(logs);
  }

  async runLogs(runId: string): Promise<RunLogs | null> {
    await this.queue.settle();
    return this.read(() => this.logs.read(runId));
  }

  async findRun(id: string): Promise<RunRecord | null> {
    await this.queue.settle();
    const { rows } = await this.read(() => this.pool.query<RunRow>(this.sql.findRun, [id, id.replace(/[\\%_]/g, "\\$&")]));
    return rows[0] ? toRecord(rows[0]) : null;
  }

  record(run: FencedRun): Promise<void> {
    return this.queue.addRun(run);
  }

  async history(query: { job?: string; limit: number }): Promise<RunRecord[]> {
    await this.queue.settle();
    const limit = Math.max(0, Math.floor(query.limit));
    const { rows } = await this.read(() => (query.job === undefined ? this.pool.query<RunRow>(this.sql.history, [limit]) : this.pool.query<RunRow>(this.sql.jobHistory, [query.job, limit])));
    return rows.map(toRecord);
  }

  async lastRuns(): Promise<Map<string, RunRecord>> {
    await this.queue.settle();
    const { rows } = await this.read(() => this.pool.query<RunRow>(this.sql.lastRuns));
    return new Map(rows.map((row) => [row.job, toRecord(row)]));
  }

  async jobState(job: string): Promise<JobState> {
    await this.queue.settle();
    const { rows } = await this.read(() => this.pool.query<{ last_fire_at: Date | null; paused: boolean }>(this.sql.getState, [job]));
    const queued = this.queue.pendingState(job);
    const stored = rows[0]?.last_fire_at ?? null;
    const lastFireAt = queued?.lastFireAt && (!stored || queued.lastFireAt > stored) ? queued.lastFireAt : stored;
    return { lastFireAt, paused: queued?.paused ?? rows[0]?.paused ?? false };
  }

  setJobState(job: string, patch: { lastFireAt?: Date; paused?: boolean }): Promise<void> {
    return this.queue.addState(job, patch);
  }

  /** Nothing to do by pid here: a run whose replica died is found by its expired lease (any host). */
  async reapLost(): Promise<RunRecord[]> {
    return [];
  }

  async prune(job: string, keep: number): Promise<void> {
    await this.queue.settle();
    await this.write(`pruning job ${job}`, () => this.pool.query(this.sql.prune, [[job], [Math.max(0, Math.floor(keep))]]));
  }

  pending(): number {
    return this.queue.size + this.logs.size;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.pruneTimer) clearInterval(this.pruneTimer);
    try {
      await this.queue.close();
      await this.logs.close();
    } finally {
      await this.pool.end();
    }
  }

  async flushRecords(): Promise<void> {
    await this.queue.flush();
  }

  /** The database answered: records waiting on the write queue's backoff go now. */
  private answered(): void {
    this.queue.retryNow();
  }

  /**
   * A client for a transaction. While checked out it is not the pool's: a connection that
   * dies between two queries emits `error` on the client, which must be listened to or the
   * process crashes. The listener stays (a released client may be reused).
   */
  private async checkout(): Promise<pg.PoolClient> {
    const client = await this.pool.connect();
    if (!CHECKED.has(client)) {
      CHECKED.add(client);
      client.on("error", (err) => this.logger.warn({ err: describePgError(err) }, `PostgreSQL connection lost during a transaction (${this.where})`));
    }
    return client;
  }

  // The claim capability (FireClaims), in pg-fire-claims.ts.
  claimFire(c: FireClaimRequest): Promise<FireClaim> { return this.fireClaims.claimFire(c); }
  renewLeases(runs: Array<{ runId: string; fence: number }>): Promise<Set<string>> { return this.fireClaims.renewLeases(runs); }
  beginAttempt(run: { runId: string; fence: number; attempt: number }): Promise<boolean> { return this.fireClaims.beginAttempt(run); }
  publishSpecs(generation: number, specs: Map<string, string>, digest = ""): Promise<void> { return this.fireClaims.publishSpecs(generation, specs, digest); }
  heartbeat(): Promise<boolean> { return this.fireClaims.heartbeat(); }
  reapExpired(): Promise<ExpiredRun[]> { return this.fireClaims.reapExpired(); }
  acquireRetries(specs: Map<string, string>, limit: number): Promise<AcquiredRun[]> { return this.fireClaims.acquireRetries(specs, limit); }
  leave(): Promise<void> { return this.fireClaims.leave(); }
  markLeaving(): Promise<void> { return this.fireClaims.markLeaving(); }
  members(): Promise<ReplicaRow[]> { return this.fireClaims.members(); }
  tidy(): Promise<void> { return this.fireClaims.tidy(); }

  /** @internal started by {@link openPostgresStore} once the schema is there. */
  startPruning(): void {
    this.pruneTimer = setInterval(() => void this.pruneTouched(), PRUNE_EVERY_MS);
    this.pruneTimer.unref();
  }

  /** Retention off the write path: jobs that gained finished runs since the last pass. */
  private async pruneTouched(): Promise<void> {
    if (this.touched.size === 0 || this.closed) return;
    const jobs = [...this.touched];
    this.touched.clear();
    try {
      await this.pool.query(this.sql.prune, [jobs, jobs.map((job) => Math.max(0, Math.floor(this.keepFor(job))))]);
    } catch (err) {
      for (const job of jobs) this.touched.add(job);
      this.logger.warn({ err: describePgError(err) }, `pruning run history in ${this.where} failed; will try again`);
    }
  }

  /** One batch in one transaction: runs (fenced ones only while their fence holds), then states. */
  private async writeBatch(batch: WriteBatch): Promise<void> {
    const runs = (batch.runs as FencedRun[]).map((run) => this.row(run));
    const states = [...batch.states].map(([job, p]) => ({ job, last_fire_at: p.lastFireAt?.toISOString() ?? null, paused: p.paused ?? null }));
    // Another replica's reaper or records may hold the same fires' rows: a transaction that lost to its locks is run again at once.
    const written = await retryLostToLocks(() =>
      inTransaction(() => this.checkout(), this.logger, async (client) => {
        const result = runs.length > 0 ? await client.query<{ run_id: string }>(this.sql.writeRuns, [withoutNul(JSON.stringify(runs))]) : { rows: [] };
        if (states.length > 0) await client.query(this.sql.writeStates, [withoutNul(JSON.stringify(states)), withoutNul(JSON.stringify(states.filter((s) => s.paused !== null)))]);
        return new Set(result.rows.map((r) => r.run_id));
      }),
    );
    for (const run of runs) {
      if (run.status !== "running") this.touched.add(run.job);
      if (!written.has(run.run_id)) {
        this.logger.warn({ job: run.job, runId: run.run_id, status: run.status, fence: run.fence }, "run record dropped: another replica took this run over (its fence moved on)");
      }
    }
  }

  private row(run: FencedRun) {
    return {
      run_id: run.runId, job: run.job, status: run.status, scheduled_at: run.scheduledAt, started_at: run.startedAt, finished_at: run.finishedAt,
      attempt: run.attempt, error: run.error ? withoutNul(JSON.stringify(encodeError(run.error))) : null, result: withoutNul(encodeResult(run.result, this.maxResultBytes)),
      reason: run.reason ?? null, trigger_kind: run.trigger ?? null, upstream_run_id: run.upstreamRunId ?? null, params: nullable(encodeParams(run.params, this.maxResultBytes)),
      attempts: nullable(encodeAttempts(run.attempts)), owner_pid: run.owner?.pid ?? null, owner_host: run.owner?.host ?? null, fence: run.fence ?? null,
    };
  }

  private async read<T>(query: () => Promise<T>): Promise<T> {
    try {
      return await query();
    } catch (err) {
      throw new RunletError("STORE_OPEN", `cannot read the run history at ${this.where}: ${describePgError(err)}`, { cause: err });
    }
  }

  private async write<T>(what: string, change: () => Promise<T>): Promise<T> {
    try {
      return await change();
    } catch (err) {
      throw new RunletError("STORE_WRITE", `${what} in ${this.where} failed: ${describePgError(err)}`, { cause: err });
    }
  }
}

function nullable(json: string | null): string | null {
  return json === null ? null : withoutNul(json);
}
