import { hostname } from "node:os";
import type pg from "pg";
import type { RunTrigger } from "../../contracts/index.js";
import type { Logger } from "../../log/logger.js";
import type { AcquiredRun, ExpiredRun, FireClaim, FireClaimRequest, FireClaims, ReplicaRow } from "../fire-claims.js";
import type { claimStatements } from "./claim-sql.js";
import { retryLostToLocks } from "./transient.js";
import { inTransaction } from "./transaction.js";
import { TurnBatch, type Waiting } from "./turn-batch.js";

/** Claims per statement: a bigger fire is claimed in several statements, on several connections. */
const CLAIM_BATCH_MAX = 1000;

export interface PgFireClaimsDeps {
  pool: pg.Pool;
  /** This replica's identity in `owner` columns. */
  owner: string;
  leaseMs: number;
  reapMs: number;
  logger: Logger;
  /** Called whenever the database answered (the record writer retries at once). */
  answered: () => void;
  /** A client for a transaction, its connection errors listened to. */
  checkout: () => Promise<pg.PoolClient>;
}

/**
 * The claim capability of the PostgreSQL store ({@link FireClaims} but for `flushRecords`,
 * which is the store's): the statements of claim-sql.ts, batched per turn.
 */
export class PgFireClaims implements Omit<FireClaims, "flushRecords" | "owner" | "leaseMs" | "reapMs" | "claimAheadMs" | "partitioned"> {
  private readonly claimBatch = new TurnBatch<FireClaimRequest, FireClaim>((chunk) => this.claimAll(chunk), CLAIM_BATCH_MAX);

  constructor(
    private readonly claims: ReturnType<typeof claimStatements>,
    private readonly deps: PgFireClaimsDeps,
  ) {}

  /** Each statement here is one transaction: one that lost to another replica's locks is run again. */
  private query<R extends pg.QueryResultRow = pg.QueryResultRow>(text: string, values?: unknown[]): Promise<pg.QueryResult<R>> {
    return retryLostToLocks(() => this.deps.pool.query<R>(text, values));
  }

  /** Claims made in one turn (a fire's jobs) are decided together: see {@link claimAll}. */
  claimFire(c: FireClaimRequest): Promise<FireClaim> {
    return this.claimBatch.add(c);
  }

  /**
   * One statement decides every claim of the batch, and each is answered at once; a fire
   * that got no row back is looked up: its row exists (another replica has it) or it does
   * not. Without one, an exclusive claim lost a race on `fires_one_live` (another fire of
   * the job went live between the statement's snapshot and its insert): it is claimed
   * again, and this time sees that run and records the fire as skipped. Three tries in
   * all, as for one claim alone. A query that fails rejects only the claims still open.
   */
  private async claimAll(chunk: Array<Waiting<FireClaimRequest, FireClaim>>): Promise<void> {
    let open = chunk;
    for (let tries = 0; tries < 3 && open.length > 0; tries++) {
      const batch = open.map((w) => w.item);
      const { rows } = await this.query<ClaimRow>(this.claims.claim, [
        batch.map((c) => c.job),
        batch.map((c) => c.scheduledAt),
        batch.map((c) => c.source),
        batch.map((c) => c.specHash),
        batch.map((c) => c.overlap === "skip" || c.overlap === "queue"),
        batch.map((c) => (c.startingDeadlineMs === null ? null : Math.ceil(c.startingDeadlineMs))),
        batch.map((c) => c.runId),
        batch.map((c) => c.maxAttempts),
        batch.map((c) => c.trigger),
        this.deps.owner, this.deps.leaseMs, process.pid, hostname(), this.liveMs,
        batch.map((c) => c.heldSpecHash ?? null),
        batch.map((c) => c.cause ?? null),
        batch.map((c) => c.ahead === true),
      ]);
      this.deps.answered();
      const unanswered: typeof open = [];
      for (const row of rows) {
        const waiting = open[Number(row.i) - 1]!;
        const outcome = claimOutcome(row);
        if (outcome) waiting.resolve(outcome);
        else unanswered.push(waiting);
      }
      if (unanswered.length === 0) return;
      const keys = unanswered.map((w) => w.item);
      const exists = await this.query<{ i: string }>(this.claims.firesExist, [keys.map((c) => c.job), keys.map((c) => c.scheduledAt), keys.map((c) => c.source)]);
      const taken = new Set(exists.rows.map((row) => unanswered[Number(row.i) - 1]!));
      for (const waiting of taken) waiting.resolve({ won: false, reason: "taken" });
      open = unanswered.filter((w) => !taken.has(w));
    }
    for (const waiting of open) waiting.resolve({ won: false, reason: "overlap" });
  }

  async renewLeases(runs: Array<{ runId: string; fence: number }>): Promise<Set<string>> {
    if (runs.length === 0) return new Set();
    const { rows } = await this.query<{ run_id: string }>(this.claims.renew, [runs.map((r) => r.runId), runs.map((r) => r.fence), this.deps.leaseMs]);
    this.deps.answered();
    return new Set(rows.map((r) => r.run_id));
  }

  async beginAttempt(run: { runId: string; fence: number; attempt: number }): Promise<boolean> {
    const { rowCount } = await this.query(this.claims.beginAttempt, [run.runId, run.fence, run.attempt, this.deps.leaseMs]);
    this.deps.answered();
    return (rowCount ?? 0) > 0;
  }

  async publishSpecs(generation: number, specs: Map<string, string>, digest = ""): Promise<void> {
    const [upsert, clear, insert] = this.claims.publish;
    await inTransaction(this.deps.checkout, this.deps.logger, async (client) => {
      await client.query(upsert!, [this.deps.owner, Math.floor(generation), digest]);
      await client.query(clear!, [this.deps.owner]);
      await client.query(insert!, [this.deps.owner, [...specs.keys()], [...specs.values()]]);
    });
  }

  async heartbeat(): Promise<boolean> {
    const result = await this.query(this.claims.heartbeat, [this.deps.owner]);
    this.deps.answered();
    return (result.rowCount ?? 0) > 0;
  }

  async reapExpired(): Promise<ExpiredRun[]> {
    const { rows } = await this.query<{ run_id: string; job: string; scheduled_at: Date; owner: string; attempt: number; state: string }>(this.claims.reap, [this.deps.leaseMs]);
    return rows.map((r) => ({ runId: r.run_id, job: r.job, scheduledAt: r.scheduled_at.toISOString(), owner: r.owner, attempt: r.attempt, retry: r.state === "retry" }));
  }

  async acquireRetries(specs: Map<string, string>, limit: number): Promise<AcquiredRun[]> {
    const { rows } = await this.query<{ run_id: string; job: string; scheduled_at: Date; trigger_kind: RunTrigger; fence: string; attempt: number; cause: string | null }>(this.claims.acquire, [
      [...specs.keys()], [...specs.values()], this.deps.owner, this.deps.leaseMs, limit, process.pid, hostname(),
    ]);
    return rows.map((r) => ({ runId: r.run_id, job: r.job, scheduledAt: r.scheduled_at, trigger: r.trigger_kind, fence: Number(r.fence), attempt: r.attempt, cause: r.cause === null ? null : JSON.parse(r.cause) }));
  }

  async leave(): Promise<void> {
    await this.query(this.claims.leave, [this.deps.owner]);
  }

  async markLeaving(): Promise<void> {
    await this.query(this.claims.markLeaving, [this.deps.owner]);
  }

  async members(): Promise<ReplicaRow[]> {
    const { rows } = await this.query<{ owner: string; generation: string; digest: string; leaving: boolean; age_ms: number }>(this.claims.members);
    this.deps.answered();
    return rows.map((r) => ({ owner: r.owner, generation: Number(r.generation), digest: r.digest, leaving: r.leaving, ageMs: r.age_ms }));
  }

  /** Deletes long-silent replicas and day-old finished fires. */
  async tidy(): Promise<void> {
    for (const statement of this.claims.tidy) await this.query(statement);
  }

  /** How long a replica's published specs count after its last heartbeat. */
  private get liveMs(): number {
    return Math.max(this.deps.leaseMs, 3 * this.deps.reapMs);
  }
}

/** One request's row of the claim statement; `i` counts from 1. */
interface ClaimRow {
  i: string;
  state: string | null;
  fence: string | null;
  spec_ok: boolean;
}

/** What a claim row says, or null when it got no row back (taken, or lost a race: look it up). */
function claimOutcome(row: ClaimRow): FireClaim | null {
  if (!row.spec_ok) return { won: false, reason: "stale-spec" };
  if (row.state === "running") return { won: true, fence: Number(row.fence) };
  if (row.state === "skipped") return { won: false, reason: "overlap" };
  if (row.state === "missed") return { won: false, reason: "missed" };
  if (row.state === "later") return { won: false, reason: "later" };
  return null;
}
