import { RunletError } from "../errors.js";
import type { GateClaim } from "../contracts/index.js";
import type { Logger } from "../log/logger.js";
import type { ClaimingStore } from "../store/fire-claims.js";
import { describeStoreError } from "../store/store-errors.js";

interface Held {
  job: string;
  fence: number;
  /**
   * Monotonic time until which the lease surely holds: when the last renewal that the
   * database confirmed was *sent*, plus the lease, minus a margin for the two clocks'
   * rates. Past it another replica may already have the run.
   */
  heldUntil: number;
  lost: boolean;
  /** The dispatcher is done with the run (released its claim). */
  released: boolean;
  /** Its final record was handed to the store: kept (and renewed) until that is durable. */
  finalPending: boolean;
}

export interface LeaseBookOptions {
  store: ClaimingStore;
  logger: Logger;
  /** Aborts a run in flight in this process: a thread run is terminated at once, an inline one gets its `ctx.signal`. */
  abortRun: (runId: string, reason: Error) => void;
  /** Monotonic milliseconds. */
  now: () => number;
}

/**
 * The leases of the runs this replica holds. Renewed every lease/3; a run is kept (and
 * renewed) until its final record is durable, so a run that finished while the database
 * was unreachable is not judged expired by the group before its outcome lands.
 * On every wake (renewal tick, before a retry, before a start) the lease's deadline is
 * checked against the monotonic clock first: a replica paused or cut off past its lease
 * stops its run at once instead of running on beside the replica that took it over.
 */
export class LeaseBook {
  private readonly held = new Map<string, Held>();
  private timer: NodeJS.Timeout | null = null;
  private readonly margin: number;

  constructor(private readonly options: LeaseBookOptions) {
    this.margin = options.store.leaseMs / 6;
  }

  get size(): number {
    return this.held.size;
  }

  /** A claim won (or taken over) with a request sent at `sentAt`; null when it already lapsed (the process was paused). */
  hold(runId: string, job: string, fence: number, sentAt: number): GateClaim | null {
    const held: Held = { job, fence, heldUntil: sentAt + this.options.store.leaseMs - this.margin, lost: false, released: false, finalPending: false };
    if (this.options.now() >= held.heldUntil) {
      this.options.logger.warn({ job, runId, fence }, "claim won but not started: this process was paused past the lease while claiming; the group's reaper decides the run");
      return null;
    }
    this.held.set(runId, held);
    // A failed renewal is the database being unreachable: tend() reports that; the deadlines were checked.
    this.timer ??= setInterval(() => void this.renew().catch(() => undefined), Math.max(50, this.options.store.leaseMs / 3)).unref();
    return {
      release: () => this.released(runId),
      startable: () => this.startable(runId),
      beforeRetry: (attempt) => this.beforeRetry(runId, attempt),
    };
  }

  fenceOf(runId: string): number | undefined {
    return this.held.get(runId)?.fence;
  }

  isLost(runId: string): boolean {
    return this.held.get(runId)?.lost ?? false;
  }

  /** The run's final record was queued; `durable` settles once it is written (or dropped by its fence). */
  finalRecord(runId: string, durable: Promise<void>): void {
    const held = this.held.get(runId);
    if (!held) return;
    held.finalPending = true;
    const done = () => {
      held.finalPending = false;
      if (held.released) this.forget(runId);
    };
    durable.then(done, done);
  }

  /** Extends every lease held; first stops runs whose lease may have lapsed. Throws when the database is unreachable. */
  async renew(): Promise<void> {
    this.checkDeadlines();
    const runs = [...this.held].filter(([, h]) => !h.lost).map(([runId, h]) => ({ runId, fence: h.fence }));
    if (runs.length === 0) return;
    const sentAt = this.options.now();
    let still: Set<string>;
    try {
      still = await this.options.store.renewLeases(runs);
    } catch (err) {
      this.checkDeadlines();
      throw err;
    }
    for (const { runId } of runs) {
      const held = this.held.get(runId);
      if (!held || held.lost) continue;
      if (still.has(runId)) held.heldUntil = sentAt + this.options.store.leaseMs - this.margin;
      else this.lose(runId, held, "another replica took this run over (its lease had expired)");
    }
  }

  /** Stops renewing (the replica leaves the group). */
  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  /** Runs in flight whose lease may have lapsed (monotonic clock): lost, stopped now. */
  private checkDeadlines(): void {
    const now = this.options.now();
    for (const [runId, held] of this.held) {
      if (!held.lost && !held.released && now >= held.heldUntil) this.lose(runId, held, "its lease may have lapsed (this process was paused, or could not reach the database to renew it)");
    }
  }

  /** Before a run claimed ahead starts at its time: its lease must still surely hold (the process may have been paused meanwhile). */
  private startable(runId: string): boolean {
    const held = this.held.get(runId);
    if (!held) return false;
    if (!held.lost && this.options.now() >= held.heldUntil) {
      held.lost = true;
      this.options.logger.error({ job: held.job, runId, fence: held.fence }, "claimed fire not started: its lease may have lapsed before its time (this process was paused); the group's reaper decides the run");
    }
    return !held.lost;
  }

  /** Before attempt `attempt` of a retry here: the lease must hold and the database must take the attempt under this fence. */
  private async beforeRetry(runId: string, attempt: number): Promise<boolean> {
    const held = this.held.get(runId);
    if (!held || held.lost) return false;
    this.checkDeadlines();
    if (held.lost) return false;
    const sentAt = this.options.now();
    try {
      if (await this.options.store.beginAttempt({ runId, fence: held.fence, attempt })) {
        held.heldUntil = sentAt + this.options.store.leaseMs - this.margin;
        return true;
      }
      this.lose(runId, held, "another replica took this run over before its retry");
    } catch (err) {
      this.lose(runId, held, `its retry could not be recorded (${describeStoreError(err)}); the group's reaper decides the run`);
    }
    return false;
  }

  private released(runId: string): void {
    const held = this.held.get(runId);
    if (!held) return;
    held.released = true;
    if (!held.finalPending) this.forget(runId);
  }

  private forget(runId: string): void {
    this.held.delete(runId);
    if (this.held.size === 0) this.stop();
  }

  private lose(runId: string, held: Held, why: string): void {
    held.lost = true;
    if (held.released) {
      // Finished here, record not yet durable: its write is fenced, so it lands only if nobody took the run over.
      this.options.logger.warn({ job: held.job, runId, fence: held.fence }, `lease of a finished run lost: ${why}; its record is written only if no other replica took the run over`);
      return;
    }
    this.options.logger.error({ event: "run-ownership-lost", job: held.job, runId, fence: held.fence }, `run ownership lost: ${why}; stopping it here, its outcome is not recorded by this replica`);
    this.options.abortRun(runId, new RunletError("LEASE_LOST", `ownership of the run was lost: ${why}`));
  }
}
