import type { GateClaim, GateRequest, JobDefinition } from "../contracts/index.js";
import type { Logger } from "../log/logger.js";
import { specHashOf } from "../manifest/spec-hash.js";
import type { AcquiredRun, ClaimingStore, ExpiredRun, FencedRun } from "../store/fire-claims.js";
import { describeStoreError, storeUnreachable } from "../store/store-errors.js";
import { storeDefaults, type StoredRun } from "../store/run-store.js";
import type { Coordination } from "./coordination.js";
import { LeaseBook } from "./lease-book.js";
import { manifestGeneration } from "./manifest-generation.js";
import { causeJson } from "../store/result-json.js";
import { SchedulePartition, specsDigest } from "./partition.js";

export interface ReplicaGroupOptions {
  store: ClaimingStore;
  logger: Logger;
  /** The manifest file: its modification time says which replica's manifest is newest. */
  /** Its modification time orders the replicas' specs; null: no manifest (generation 0). */
  manifestPath: string | null;
  /** Aborts a run in flight in this process (see LeaseBook). */
  abortRun: (runId: string, reason: Error) => void;
  /** Starts a run this replica took over from one whose lease expired; false when it cannot run here (job gone, stopping). */
  resume: (run: AcquiredRun, claim: GateClaim) => boolean;
  /** A run this replica's reaper marked lost for good (no attempt left): what runs after its failure starts. */
  onLost?: (run: ExpiredRun) => void;
  /** Monotonic milliseconds; tests may inject. @default performance.now */
  now?: () => number;
}

const BACKOFF_FIRST_MS = 500;
const TIDY_EVERY_MS = 60_000;
const FINAL = new Set(["ok", "failed", "timeout", "cancelled", "lost", "skipped"]);

/**
 * One replica's side of the claim protocol, and the dispatcher's gate: claims each fire
 * in the shared store, holds the leases of its runs (LeaseBook), and every `reapMs`
 * (with jitter) tends the group: a heartbeat, then its *own* queued records and leases,
 * and only then other replicas' expired leases (→ `lost`, or a retry it may take over).
 * While the database is unreachable fires are logged as unclaimed and not run. When it
 * answers again this replica writes and renews first and judges nobody for one lease:
 * the others, cut off too, get that long to write what finished meanwhile. Each tend also
 * reads the group for partitioned scheduling (SchedulePartition: which jobs it fires).
 */
export class ReplicaGroup implements Coordination {
  readonly gate = this;
  /** A scheduled fire is claimed this long before its time (`?claimAhead=`). */
  readonly aheadMs: number;
  /** Partitioned scheduling (the store's default): which jobs this replica fires. */
  readonly partition: SchedulePartition | undefined;
  private readonly store: ClaimingStore;
  private readonly logger: Logger;
  private readonly now: () => number;
  private readonly leases: LeaseBook;
  private specs = new Map<string, string>();
  private generation = 0;
  private digest = "";
  private joined = false;
  private tendTimer: NodeJS.Timeout | null = null;
  private lastTidy = 0;
  private down: { until: number; delayMs: number } | null = null;
  /** Monotonic time before which this replica reaps nothing (just reconnected). */
  private judgeFrom = 0;
  private readonly staleWarned = new Set<string>();
  private lastRefused: unknown = null;

  constructor(private readonly options: ReplicaGroupOptions) {
    this.store = options.store;
    this.logger = options.logger;
    this.now = options.now ?? (() => performance.now());
    this.aheadMs = this.store.claimAheadMs;
    this.leases = new LeaseBook({ store: this.store, logger: this.logger, abortRun: options.abortRun, now: this.now });
    this.partition = this.store.partitioned ? new SchedulePartition(this.store, this.logger) : undefined;
  }

  /** Joins the group with this manifest and starts tending it. Throws if the database refuses. */
  async join(jobs: readonly JobDefinition[]): Promise<void> {
    this.setSpecs(jobs);
    await this.store.publishSpecs(this.generation, this.specs, this.digest);
    // The first view before the first fire: until it, every job would be fired here.
    await this.partition?.read();
    this.joined = true;
    this.scheduleTend();
  }

  /** After a reload: the group learns this replica's new specs. Never throws (logged). */
  async publish(jobs: readonly JobDefinition[]): Promise<void> {
    this.setSpecs(jobs);
    this.staleWarned.clear();
    if (!this.joined) return;
    try {
      await this.store.publishSpecs(this.generation, this.specs, this.digest);
      await this.partition?.read();
    } catch (err) {
      this.failed(err, "publishing this replica's manifest");
    }
  }

  /** A record of a claimed run goes with its fence; a run whose lease this replica lost records nothing. */
  record(run: StoredRun): Promise<void> {
    const fenced: FencedRun = run;
    const fence = this.leases.fenceOf(run.runId);
    if (fence === undefined) return this.store.record(run);
    if (this.leases.isLost(run.runId)) return Promise.resolve();
    fenced.fence = fence;
    const durable = this.store.record(fenced);
    if (FINAL.has(run.status)) this.leases.finalRecord(run.runId, durable);
    return durable;
  }

  async claim(request: GateRequest): Promise<GateClaim | null | "later"> {
    const { def, fireDate, trigger, runId, cause } = request;
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
        // Its retry, though, is taken over only by a replica running the same spec, and
        // hands the handler the same ctx.trigger.
        heldSpecHash: after ? specHashOf(def) : undefined,
        cause: after && cause ? causeJson(cause, storeDefaults.maxResultBytes) : null,
        overlap: def.overlap,
        startingDeadlineMs: trigger === "invoke" || after ? null : trigger === "catch-up" ? def.startingDeadlineMs : def.latenessMs,
        runId,
        // A lost invoke is not retried elsewhere: the caller waited on the replica that died.
        maxAttempts: trigger === "invoke" ? 1 : def.retries.max + 1,
        ahead: request.ahead === true,
      });
    } catch (err) {
      const outage = this.failed(err, "claiming a fire");
      this.logger.warn({ ...log, unclaimed: true, err: describeStoreError(err) }, outage ? "fire unclaimed (not run): the claim failed" : "fire unclaimed (not run): the database refused its claim");
      return null;
    }
    this.reachable();
    if (outcome.won) return this.leases.hold(runId, def.name, outcome.fence, sentAt);
    switch (outcome.reason) {
      case "later":
        return "later";
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

  /** Stops taking over other replicas' runs (shutdown begins); leases of runs in flight are still renewed. */
  stopTakingOver(): void {
    this.joined = false;
    if (this.tendTimer) clearTimeout(this.tendTimer);
    this.tendTimer = null;
  }

  /** A graceful stop, after {@link stopTakingOver}: the others take this replica's jobs over while it still fires them. */
  handOff(): Promise<void> | null {
    return this.partition?.handOff() ?? null;
  }

  /** Leaves the group: no more renewals; this replica's specs stop counting at once. */
  async leave(): Promise<void> {
    this.stopTakingOver();
    this.leases.stop();
    await this.store.leave().catch((err: unknown) => this.logger.warn({ err: describeStoreError(err) }, "could not leave the replica group cleanly; its entry expires by itself"));
  }

  private setSpecs(jobs: readonly JobDefinition[]): void {
    this.generation = manifestGeneration(this.options.manifestPath, this.logger);
    this.specs = new Map(jobs.filter((j) => j.enabled).map((j) => [j.name, specHashOf(j)]));
    // A racing replica publishes no digest: it fires every job, so partitioned replicas count it no member.
    this.digest = this.partition ? specsDigest(this.specs) : "";
    this.partition?.setManifest(this.generation, this.digest);
  }

  private scheduleTend(): void {
    if (!this.joined) return;
    const jitter = 0.8 + Math.random() * 0.4;
    this.tendTimer = setTimeout(() => void this.tend().finally(() => this.scheduleTend()), this.store.reapMs * jitter);
    this.tendTimer.unref();
  }

  /** One round: alive, own records and leases, then (not right after an outage) other replicas' expired runs. */
  private async tend(): Promise<void> {
    let ownDone = false;
    try {
      // Also the probe while the database is down: every reapMs, whatever the claims' backoff.
      if (!(await this.store.heartbeat())) await this.store.publishSpecs(this.generation, this.specs, this.digest);
      this.reachable();
      await this.partition?.read();
      await this.flushOwn();
      await this.leases.renew();
      ownDone = true;
      if (!this.joined || this.now() < this.judgeFrom) return;
      for (const run of await this.store.reapExpired()) {
        this.logger.warn({ event: "run-lost", job: run.job, runId: run.runId, scheduledAt: run.scheduledAt, owner: run.owner, attempt: run.attempt, retry: run.retry }, run.retry ? "run lost: its replica stopped renewing the lease; it will be retried" : "run lost: its replica stopped renewing the lease");
        if (!run.retry) this.options.onLost?.(run);
      }
      if (!this.joined) return;
      const sentAt = this.now();
      for (const run of await this.store.acquireRetries(this.specs, 10)) {
        const claim = this.leases.hold(run.runId, run.job, run.fence, sentAt);
        if (!claim) continue;
        // Not run here after all (job gone, stopping): its lease runs out and the group's reaper decides again.
        if (!this.options.resume(run, claim)) {
          claim.release();
          continue;
        }
        this.logger.info({ event: "run-taken-over", job: run.job, runId: run.runId, attempt: run.attempt, fence: run.fence }, "took over a lost run for its next attempt");
      }
      if (this.now() - this.lastTidy > TIDY_EVERY_MS) {
        this.lastTidy = this.now();
        await (this.store as ClaimingStore & { tidy?: () => Promise<void> }).tidy?.();
      }
    } catch (err) {
      this.failed(err, "tending the replica group");
      if (!ownDone) this.judgeLater();
    }
  }

  /**
   * A store call failed: true when that is an outage (storeUnreachable), which holds fires
   * back and is skipped by takeovers. A statement the database answered with an error (a
   * lost lock race past its retries, a bad value) is logged and costs only what it was doing.
   */
  private failed(err: unknown, doing: string): boolean {
    if (storeUnreachable(err)) {
      this.unreachable(err, doing);
      return true;
    }
    // One statement decides a turn's claims: its error is logged once, each fire's by its claim.
    if (err !== this.lastRefused) this.logger.error({ err: describeStoreError(err), code: (err as { code?: unknown } | null)?.code }, `the database refused a statement while ${doing} (not an outage: fires go on being claimed)`);
    this.lastRefused = err;
    this.reachable();
    return false;
  }

  private unreachable(err: unknown, doing: string): void {
    // Claims retry with backoff up to one tend period; tend() probes every period anyway.
    const delayMs = this.down ? Math.min(this.down.delayMs * 2, Math.max(BACKOFF_FIRST_MS, this.store.reapMs)) : BACKOFF_FIRST_MS;
    this.partition?.unreachable();
    if (!this.down) this.logger.error({ err: describeStoreError(err) }, `database unreachable while ${doing}: fires are not run until it is back (retrying with backoff)`);
    this.down = { until: this.now() + delayMs, delayMs };
  }

  private reachable(): void {
    if (!this.down) return;
    this.down = null;
    this.partition?.reconnected();
    this.judgeLater();
    this.logger.info({ judgeInMs: this.store.leaseMs }, "database reachable again: claiming fires; writing this replica's records and renewing its leases before judging other replicas' runs");
    // Not awaited: a claim may be what noticed; its fire goes on. tend() does the same each round.
    void this.catchUpOwn();
  }

  private async catchUpOwn(): Promise<void> {
    try {
      await this.flushOwn();
      await this.leases.renew();
    } catch (err) {
      this.failed(err, "writing this replica's queued records");
      this.judgeLater();
    }
  }

  /** Writes this replica's queued records; past a batch the database refused (no outage) the leases are still renewed. */
  private async flushOwn(): Promise<void> {
    if (this.store.pending() === 0) return;
    await this.store.flushRecords().catch((err: unknown) => {
      // The write queue logs each failed write with its retry; logging it here too doubled every line.
      if (storeUnreachable(err)) throw err;
    });
  }

  /** This replica could not keep its own rows fresh, nor likely could the others: it judges nobody for one lease, their time to write what finished meanwhile. */
  private judgeLater(): void {
    this.judgeFrom = Math.max(this.judgeFrom, this.now() + this.store.leaseMs);
  }
}
