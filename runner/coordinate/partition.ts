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
  /** Called after a reading of the group changed which jobs {@link owns} answers true for. */
  onChange(listener: () => void): void;
}

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
  /** Wall time this replica last reached the database again after losing it: fires due before are the outage's. */
  private backAt = 0;
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
    // An outage costs only the outage: fires due while this replica could not claim are not taken over either.
    return since === null ? null : Math.max(since, this.backAt, this.wallNow() - this.lookbackMs);
  }

  /** The database answers again after an outage. */
  reconnected(): void {
    this.backAt = this.wallNow();
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

  /** A graceful stop: says so, then keeps firing for the handoff; null when no other replica could take the jobs (stop at once). */
  handOff(): Promise<void> | null {
    const others = (this.membership.members ?? []).filter((m) => m !== this.store.owner);
    return others.length === 0 ? null : this.announceAndWait();
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
