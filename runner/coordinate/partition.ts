import { createHash } from "node:crypto";
import type { Logger } from "../log/logger.js";
import type { ClaimingStore } from "../store/fire-claims.js";
import { describeStoreError } from "../store/store-errors.js";
import { Membership, type Sighting } from "./membership.js";

/**
 * Which jobs this replica fires on schedule, when replicas split them (see {@link SchedulePartition}).
 * Triggered runs, invokes, retries and the reaper are not partitioned.
 */
export interface Partition {
  /** Whether this replica fires the job's schedule now. */
  owns(job: string): boolean;
  /**
   * For a job this replica began to own at the last change: the wall time (ms) from which
   * its fires may have gone unclaimed (its owner died or left), or null: nothing to claim late.
   */
  unclaimedSince(job: string): number | null;
  /** Whether this replica could not claim at wall time `at` (its database was unreachable): a taken-over fire due then is the outage's, not claimed late. */
  wasDown(at: number): boolean;
  /** Called after a reading of the group changed which jobs {@link owns} answers true for. */
  onChange(listener: () => void): void;
}

/** The outages a takeover skips are kept this many at most: they only lengthen its look back. */
const MAX_OUTAGES = 32;

/** A digest of a manifest's specs: replicas with equal digests can claim each other's jobs. */
export function specsDigest(specs: ReadonlyMap<string, string>): string {
  const hash = createHash("sha1");
  for (const job of [...specs.keys()].sort()) hash.update(`${job}\0${specs.get(job)}\n`);
  return hash.digest("hex");
}

/**
 * Partitioned scheduling on a shared store: each job's schedule is armed in one replica,
 * its owner by rendezvous hashing over the live replicas ({@link Membership}), read from
 * the replicas table on every tend. The claim statement still decides every fire, so a
 * moment when two replicas think they own a job costs a wasted claim, never a double run.
 * A graceful stop hands over: the replica marks itself leaving and keeps firing its jobs
 * for `handoffMs`, long enough for every other replica to read that and arm them.
 */
export class SchedulePartition implements Partition {
  private readonly membership: Membership;
  private listener: () => void = () => undefined;
  private generation = 0;
  private digest = "";
  /** Wall time this replica lost the database (its claims fail), while it is lost. */
  private downSince: number | null = null;
  /** The times this replica could not claim, oldest first: fires due then are the outage's. */
  private outages: Array<{ from: number; to: number }> = [];
  private readonly handoffMs: number;
  /** The longest a job's fires can go unclaimed in a takeover: older ones are not looked for. */
  private readonly lookbackMs: number;

  constructor(
    private readonly store: ClaimingStore,
    private readonly logger: Logger,
    private readonly wallNow: () => number = Date.now,
  ) {
    const reap = store.reapMs;
    // A replica reads the table every reap period ± 20 %: the handoff outlasts one read by everyone.
    this.handoffMs = 2 * reap;
    const liveMs = Math.max(store.leaseMs, 3 * reap);
    this.membership = new Membership({ self: store.owner, liveMs, overlapMs: reap, handoffMs: this.handoffMs, marginMs: reap });
    this.lookbackMs = liveMs + this.handoffMs + 3 * reap;
  }

  setManifest(generation: number, digest: string): void {
    this.generation = generation;
    this.digest = digest;
  }

  owns(job: string): boolean {
    return this.membership.owns(job);
  }

  unclaimedSince(job: string): number | null {
    const since = this.membership.unclaimedSince(job);
    if (since === null) return null;
    // No older than a takeover can be, counting the time this replica could not read the group.
    let oldest = this.wallNow() - this.lookbackMs;
    for (let i = this.outages.length - 1; i >= 0 && this.outages[i]!.to >= oldest; i--) oldest -= this.outages[i]!.to - this.outages[i]!.from;
    return Math.max(since, oldest);
  }

  // An outage costs only the outage: fires due while this replica could not claim are not
  // taken over either, but a dead owner's fires before and after it are.
  wasDown(at: number): boolean {
    if (this.downSince !== null && at >= this.downSince) return true;
    return this.outages.some((o) => at >= o.from && at <= o.to);
  }

  /** A claim or a read failed: the database is unreachable from here. */
  unreachable(): void {
    this.downSince ??= this.wallNow();
  }

  /** The database answers again after an outage. */
  reconnected(): void {
    const now = this.wallNow();
    this.outages.push({ from: this.downSince ?? now, to: now });
    this.downSince = null;
    // A takeover looks back a few heartbeats, plus the outages within: older ones are of no use.
    if (this.outages.length > MAX_OUTAGES) this.outages.shift();
  }

  onChange(listener: () => void): void {
    this.listener = listener;
  }

  /** The members, sorted; null before the first reading. */
  get members(): readonly string[] | null {
    return this.membership.members;
  }

  /** Reads the group; tells the listener when ownership changed. Throws when the database is unreachable. */
  async read(): Promise<void> {
    const rows = await this.store.members();
    const now = this.wallNow();
    const sightings: Sighting[] = rows.map((r) => ({ owner: r.owner, seenAt: now - r.ageMs, leaving: r.leaving, digest: r.digest, generation: r.generation }));
    // This replica counts as it is now, whatever its row says (its heartbeat may look old after an outage).
    const self: Sighting = { owner: this.store.owner, seenAt: now, leaving: false, digest: this.digest, generation: this.generation };
    const before = this.membership.members;
    if (!this.membership.observe(sightings, self, now)) return;
    const members = this.membership.members ?? [];
    if (before === null || before.join() !== members.join()) {
      this.logger.info({ members: members.length }, `replica group: ${members.length} replica${members.length === 1 ? "" : "s"} share the schedule`);
      if (!members.includes(this.store.owner)) this.logger.warn({ members: members.length }, "this replica's manifest differs from the group's newest manifest: it fires none of the schedule until it runs that manifest");
    }
    this.listener();
  }

  /**
   * A graceful stop: says so, then keeps firing for the handoff; null when no other
   * replica is alive to take the jobs (stop at once). Any other live replica counts,
   * whatever its manifest: once this one is gone, a replica on an older manifest is the
   * newest and fires the jobs, and it must read that before this one stops firing them.
   */
  handOff(): Promise<void> | null {
    return this.membership.othersAlive(this.wallNow()) ? this.announceAndWait() : null;
  }

  private async announceAndWait(): Promise<void> {
    try {
      await this.store.markLeaving();
    } catch (err) {
      this.logger.warn({ err: describeStoreError(err) }, "could not tell the replica group this replica is leaving; the others take its jobs over once its heartbeat lapses");
      return;
    }
    this.logger.info({ handoffMs: this.handoffMs }, "handing this replica's jobs over to the group before stopping");
    await new Promise((resolve) => setTimeout(resolve, this.handoffMs));
  }
}
