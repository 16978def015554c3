import { RunletError } from "../../errors.js";
import type { Logger } from "../../log/logger.js";
import { specHashOf } from "../../manifest/spec-hash.js";
import type { GateClaim, GateRequest, JobDefinition, RunGate } from "../../contracts/index.js";
import type { AcquiredRun, ClaimingStore, ExpiredRun } from "./fire-claims.js";
import { describePgError } from "./postgres-store.js";

export interface ClaimedRunsOptions {
  store: ClaimingStore;
  logger: Logger;
  /** Aborts a run in flight in this process (its `ctx.signal`). */
  abortRun: (runId: string, reason: Error) => void;
  /** Starts a run this replica took over from one whose lease expired. */
  resume: (run: AcquiredRun, claim: GateClaim) => void;
  /** A run this replica's reaper marked lost for good (no attempt left): what runs after its failure starts. */
  onLost?: (run: ExpiredRun) => void;
  /** Monotonic milliseconds; tests may inject. @default performance.now */
  now?: () => number;
}

interface Held {
  job: string;
  fence: number;
  /** Local time until which the lease surely holds: when the last successful renewal was sent, plus the lease. */
  heldUntil: number;
  lost: boolean;
}

const BACKOFF_FIRST_MS = 500;
const BACKOFF_MAX_MS = 10_000;
const TIDY_EVERY_MS = 60_000;

/**
 * One replica's side of the claim protocol, as the dispatcher's {@link RunGate}: claims
 * each fire in the shared store, renews the leases of the runs it holds (every lease/3),
 * aborts a run whose lease it lost, and, every `reapMs` with jitter, turns other replicas'
 * expired leases into `lost` or a retry that it may take over. While the database is
 * unreachable, fires are logged as unclaimed and not run; claims back off, then resume.
 */
export class ClaimedRuns implements RunGate {
  private readonly held = new Map<string, Held>();
  private readonly store: ClaimingStore;
  private readonly logger: Logger;
  private readonly now: () => number;
  private specs = new Map<string, string>();
  private generation = 0;
  private joined = false;
  private renewTimer: NodeJS.Timeout | null = null;
  private reapTimer: NodeJS.Timeout | null = null;
  private lastTidy = 0;
  private down: { until: number; delayMs: number } | null = null;
  private readonly staleWarned = new Set<string>();

  constructor(private readonly options: ClaimedRunsOptions) {
    this.store = options.store;
    this.logger = options.logger;
    this.now = options.now ?? (() => performance.now());
  }

  /** Joins the group with this manifest and starts reaping. Throws if the database refuses. */
  async join(generation: number, jobs: JobDefinition[]): Promise<void> {
    this.setSpecs(generation, jobs);
    await this.store.publishSpecs(this.generation, this.specs);
    this.joined = true;
    this.scheduleReap();
  }

  /** After a reload: the group learns this replica's new specs. Never throws (logged). */
  async publish(generation: number, jobs: JobDefinition[]): Promise<void> {
    this.setSpecs(generation, jobs);
    this.staleWarned.clear();
    if (!this.joined) return;
    await this.store.publishSpecs(this.generation, this.specs).catch((err: unknown) => this.unreachable(err, "publishing this replica's manifest"));
  }

  async claim(request: GateRequest): Promise<GateClaim | null> {
    const { def, fireDate, trigger, runId } = request;
    // A run started by another's end is keyed by that run: whichever replicas see the end
    // (the one that ran it, those that find it lost), one of them runs it.
    const after = trigger === "after";
    const log = { job: def.name, scheduledAt: fireDate.toISOString(), trigger };
    if (this.down && this.now() < this.down.until) {
      this.logger.warn({ ...log, unclaimed: true }, "fire unclaimed (not run): the database is unreachable");
      return null;
    }
    const sentAt = this.now();
    let outcome;
    try {
      outcome = await this.store.claimFire({
        job: def.name,
        scheduledAt: fireDate,
        source: trigger === "invoke" ? `invoke:${runId}` : after ? `after:${request.upstreamRunId}` : "schedule",
        trigger,
        // An invoke (and a triggered run: only the replicas that saw its upstream end claim
        // it) runs what this replica has, whatever the group's spec.
        specHash: trigger === "invoke" || after ? null : specHashOf(def),
        overlap: def.overlap,
        startingDeadlineMs: trigger === "invoke" || after ? null : trigger === "catch-up" ? def.startingDeadlineMs : def.latenessMs,
        runId,
        // A lost invoke is not retried elsewhere: the caller waited on the replica that died.
        maxAttempts: trigger === "invoke" ? 1 : def.retries.max + 1,
      });
    } catch (err) {
      this.unreachable(err, "claiming a fire");
      this.logger.warn({ ...log, unclaimed: true, err: describePgError(err) }, "fire unclaimed (not run): the claim failed");
      return null;
    }
    this.reachable();
    if (!outcome.won) {
      switch (outcome.reason) {
        case "taken":
          this.logger.debug(log, "fire taken by another replica");
          break;
        case "overlap":
          this.logger.warn({ ...log, reason: "overlap" }, "run skipped: a run of this job is still going in the group (overlap: skip)");
          break;
        case "missed":
          this.logger.warn({ ...log, reason: "late" }, "run skipped: claimed past its starting deadline (database clock)");
          break;
        case "stale-spec":
          if (!this.staleWarned.has(def.name)) {
            this.staleWarned.add(def.name);
            this.logger.warn(log, "this replica's spec of the job differs from the group's newest manifest: it claims none of its fires until it runs that manifest");
          }
          break;
      }
      return null;
    }
    return this.hold(runId, def.name, outcome.fence, sentAt);
  }

  /** The fence of a run this replica holds, for its records; undefined for others. */
  fenceOf(runId: string): number | undefined {
    return this.held.get(runId)?.fence;
  }

  /** Stops taking over other replicas' runs (shutdown begins); leases of runs in flight are still renewed. */
  stopReaping(): void {
    this.joined = false;
    if (this.reapTimer) clearTimeout(this.reapTimer);
    this.reapTimer = null;
  }

  /** Leaves the group: no more renewals; this replica's specs stop counting at once. */
  async leave(): Promise<void> {
    this.stopReaping();
    if (this.renewTimer) clearInterval(this.renewTimer);
    this.renewTimer = null;
    await this.store.leave().catch((err: unknown) => this.logger.warn({ err: describePgError(err) }, "could not leave the replica group cleanly; its entry expires by itself"));
  }

  private setSpecs(generation: number, jobs: JobDefinition[]): void {
    this.generation = generation;
    this.specs = new Map(jobs.filter((j) => j.enabled).map((j) => [j.name, specHashOf(j)]));
  }

  private hold(runId: string, job: string, fence: number, sentAt: number): GateClaim {
    this.held.set(runId, { job, fence, heldUntil: sentAt + this.store.leaseMs, lost: false });
    if (!this.renewTimer) {
      this.renewTimer = setInterval(() => void this.renew(), Math.max(50, this.store.leaseMs / 3));
      this.renewTimer.unref();
    }
    return {
      release: () => {
        this.held.delete(runId);
        if (this.held.size === 0 && this.renewTimer) {
          clearInterval(this.renewTimer);
          this.renewTimer = null;
        }
      },
    };
  }

  private async renew(): Promise<void> {
    const runs = [...this.held].filter(([, h]) => !h.lost).map(([runId, h]) => ({ runId, fence: h.fence }));
    if (runs.length === 0) return;
    const sentAt = this.now();
    try {
      const still = await this.store.renewLeases(runs);
      this.reachable();
      for (const { runId } of runs) {
        const held = this.held.get(runId);
        if (!held) continue;
        if (still.has(runId)) held.heldUntil = sentAt + this.store.leaseMs;
        else this.lose(runId, held, "another replica took this run over (its lease had expired)");
      }
    } catch (err) {
      this.unreachable(err, "renewing leases");
      // Past its lease another replica may take the run over: stop before that can happen.
      for (const [runId, held] of this.held) {
        if (!held.lost && this.now() >= held.heldUntil - this.store.leaseMs / 6) this.lose(runId, held, "its lease ran out while the database was unreachable");
      }
    }
  }

  private lose(runId: string, held: Held, why: string): void {
    held.lost = true;
    this.logger.error({ job: held.job, runId, fence: held.fence }, `run ownership lost: ${why}; aborting it here, its outcome is not recorded by this replica`);
    this.options.abortRun(runId, new RunletError("JOB_CANCELLED", `ownership of the run was lost: ${why}`));
  }

  private scheduleReap(): void {
    if (!this.joined) return;
    const jitter = 0.8 + Math.random() * 0.4;
    this.reapTimer = setTimeout(() => void this.reap().finally(() => this.scheduleReap()), this.store.reapMs * jitter);
    this.reapTimer.unref();
  }

  private async reap(): Promise<void> {
    if (this.down && this.now() < this.down.until) return;
    try {
      if (!(await this.store.heartbeat())) await this.store.publishSpecs(this.generation, this.specs);
      for (const run of await this.store.reapExpired()) {
        this.logger.warn({ job: run.job, runId: run.runId, scheduledAt: run.scheduledAt, owner: run.owner, attempt: run.attempt, retry: run.retry }, run.retry ? "run lost: its replica stopped renewing the lease; it will be retried" : "run lost: its replica stopped renewing the lease");
        if (!run.retry) this.options.onLost?.(run);
      }
      if (!this.joined) return;
      const sentAt = this.now();
      for (const run of await this.store.acquireRetries(this.specs, 10)) {
        const claim = this.hold(run.runId, run.job, run.fence, sentAt);
        this.logger.info({ job: run.job, runId: run.runId, attempt: run.attempt, fence: run.fence }, "took over a lost run for its next attempt");
        this.options.resume(run, claim);
      }
      if (this.now() - this.lastTidy > TIDY_EVERY_MS) {
        this.lastTidy = this.now();
        await (this.store as ClaimingStore & { tidy?: () => Promise<void> }).tidy?.();
      }
      this.reachable();
    } catch (err) {
      this.unreachable(err, "reaping expired leases");
    }
  }

  private unreachable(err: unknown, doing: string): void {
    const delayMs = this.down ? Math.min(this.down.delayMs * 2, BACKOFF_MAX_MS) : BACKOFF_FIRST_MS;
    if (!this.down) this.logger.error({ err: describePgError(err) }, `database unreachable while ${doing}: fires are not run until it is back (retrying with backoff)`);
    this.down = { until: this.now() + delayMs, delayMs };
  }

  private reachable(): void {
    if (!this.down) return;
    this.down = null;
    this.logger.info({}, "database reachable again: claiming fires");
  }
}
