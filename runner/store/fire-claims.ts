import type { OverlapPolicy, RunTrigger } from "../contracts/index.js";
import type { RunStore, StoredRun } from "./run-store.js";

/** Where a claimed fire came from; part of the claim's key. Catch-up fires claim as `schedule`. */
export type FireSource = "schedule" | `invoke:${string}` | `after:${string}`;

export interface FireClaimRequest {
  job: string;
  /** The fire's scheduled time (for an invoke, the time it was asked for). */
  scheduledAt: Date;
  source: FireSource;
  /** Recorded with the run: `schedule`, `catch-up` or `invoke`. */
  trigger: RunTrigger;
  /** This replica's hash of the job; `null` skips the check (invokes run what this replica has). */
  specHash: string | null;
  /**
   * Kept with the claim when `specHash` is null: a retry of the run is taken over only by a
   * replica whose hash of the job is this one. @default "" (its retries are not taken over)
   */
  heldSpecHash?: string;
  /** A run started by another's end: its `ctx.trigger` as JSON, kept so a replica taking over its retry hands the same. */
  cause?: string | null;
  overlap: OverlapPolicy;
  /** A fire claimed later than this after `scheduledAt` (database clock) is `missed`; null: never. */
  startingDeadlineMs: number | null;
  runId: string;
  /** Attempts the run may take in the whole group (retries + 1). */
  maxAttempts: number;
  /**
   * Claimed before its time: a job whose claim decides overlap (skip, queue) is answered
   * `later` (no row) while a run of it is live in the group, since that run may end before
   * the fire's time; it is claimed again at its time. @default false
   */
  ahead?: boolean;
}

export type FireClaim =
  | { won: true; fence: number }
  /** `taken`: another replica's row; `stale-spec`: this replica's manifest is not the group's; `later`: see {@link FireClaimRequest.ahead}. */
  | { won: false; reason: "taken" | "stale-spec" | "overlap" | "missed" | "later" };

/** A run whose lease expired: marked lost, or queued for a retry when attempts remain. */
export interface ExpiredRun {
  runId: string;
  job: string;
  scheduledAt: string;
  /** The replica that held it. */
  owner: string;
  attempt: number;
  retry: boolean;
}

/** A run this replica took over for its next attempt. */
export interface AcquiredRun {
  runId: string;
  job: string;
  scheduledAt: Date;
  trigger: RunTrigger;
  fence: number;
  attempt: number;
  /** What the claim kept of its `ctx.trigger` (a run started by another's end); null for the others. */
  cause: unknown;
}

/** A run record as written by a replica that claimed it: written only while `fence` still holds. */
export interface FencedRun extends StoredRun {
  fence?: number;
}

/** One replica's row in the group's table, as read now. */
export interface ReplicaRow {
  owner: string;
  /** Its manifest file's modification time. */
  generation: number;
  /** A digest of its manifest's specs. */
  digest: string;
  /** It is stopping gracefully: its jobs are being handed over. */
  leaving: boolean;
  /** How long ago its last heartbeat was, by the database's clock. */
  ageMs: number;
}

/**
 * What a store shared by several replicas adds to {@link RunStore}: one claim per fire,
 * leases with fencing numbers, and a reaper. Every time comparison uses the database's clock.
 */
export interface FireClaims {
  /** This replica's identity in `owner` columns: host, pid and a random part. */
  readonly owner: string;
  readonly leaseMs: number;
  readonly reapMs: number;
  /** How long before its time a scheduled fire is claimed (its run still starts at its time); 0: at its time. */
  readonly claimAheadMs: number;
  /**
   * Each job's schedule fired by one preferred replica (rendezvous hashing over the live
   * replicas), the others claiming only on takeover; false: every replica fires every job
   * and the claim picks one (`?partition=off`).
   */
  readonly partitioned: boolean;
  /** Decides whether this replica runs the fire; the claims asked for in one turn share one statement. */
  claimFire(request: FireClaimRequest): Promise<FireClaim>;
  /** Extends the leases this replica holds; returns the run ids whose fence still holds. */
  renewLeases(runs: Array<{ runId: string; fence: number }>): Promise<Set<string>>;
  /**
   * Before a retry in this replica: records `attempt` and renews the lease, only while
   * `fence` still holds; false when another replica took the run over.
   */
  beginAttempt(run: { runId: string; fence: number; attempt: number }): Promise<boolean>;
  /** Writes this replica's queued records now (rejects while the database is unreachable). */
  flushRecords(): Promise<void>;
  /** Publishes this replica's manifest (job → spec hash, and their digest) and marks it alive. */
  publishSpecs(generation: number, specs: Map<string, string>, digest?: string): Promise<void>;
  /** Marks this replica alive (its published specs count while it is); false when it must publish again. */
  heartbeat(): Promise<boolean>;
  /** Expired leases → `lost`, or `retry` when attempts remain. */
  reapExpired(): Promise<ExpiredRun[]>;
  /** Takes retries due of jobs this replica runs with the same spec; bumps their fence. */
  acquireRetries(specs: Map<string, string>, limit: number): Promise<AcquiredRun[]>;
  /** Removes this replica from the group (its specs stop counting). */
  leave(): Promise<void>;
  /** Every replica's row (the members of partitioned scheduling). */
  members(): Promise<ReplicaRow[]>;
  /** A graceful stop begins: the others take this replica's jobs over once they read it. */
  markLeaving(): Promise<void>;
}

export type ClaimingStore = RunStore & FireClaims;

/** The store's claim capability, or null for a single-process store (memory, SQLite). */
export function fireClaimsOf(store: RunStore): ClaimingStore | null {
  return typeof (store as Partial<FireClaims>).claimFire === "function" ? (store as ClaimingStore) : null;
}
