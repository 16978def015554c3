import { hashString, ownerOf, ranked, type Ranked } from "./rendezvous.js";

/** One replica's row of the replicas table, as read at one moment. */
export interface Sighting {
  owner: string;
  /** Wall-clock ms of its last heartbeat: the database's age of it, taken from this replica's clock. */
  seenAt: number;
  /** It announced a graceful stop: it fires its jobs until `seenAt + handoffMs`, then stops. */
  leaving: boolean;
  /** A digest of its manifest's specs: replicas with equal digests can claim the same jobs. */
  digest: string;
  /** Its manifest file's modification time: the newest manifest decides the group's specs. */
  generation: number;
}

export interface MembershipOptions {
  self: string;
  /** A replica whose heartbeat is older than this is gone. */
  liveMs: number;
  /** A job that moved to another replica is still fired here this much longer, so ownership overlaps instead of gapping. */
  overlapMs: number;
  /** How long a leaving replica keeps firing its jobs after announcing it. */
  handoffMs: number;
  /** Slack for clocks and heartbeat timing when telling from when a gone owner's fires went unclaimed. */
  marginMs: number;
}

/**
 * Which jobs this replica fires on schedule: those it owns by rendezvous hashing over the
 * live members (fresh heartbeat, not leaving, on the newest manifest), plus, for
 * `overlapMs` after each change, those it owned before. Pure: readings and times are given.
 *
 * Views of different replicas may differ for a moment (each reads the table on its own
 * tick). A replica always counts itself while its manifest is current, so a disagreement
 * makes two replicas claim a fire (one wins, the database decides), and a job that lost
 * its owner to a crash or a stop is taken over with {@link unclaimedSince}: its new owner
 * claims the fires since the old one's last heartbeat.
 */
export class Membership {
  private view: Ranked | null = null;
  /** The view before the last change: who owned a job this replica just gained. */
  private before: Ranked | null = null;
  private overlaps: Array<{ view: Ranked; until: number }> = [];
  private readonly sightings = new Map<string, Sighting>();

  constructor(private readonly options: MembershipOptions) {}

  /** The members of the current view, sorted; null before the first reading (every job is fired here). */
  get members(): readonly string[] | null {
    return this.view?.names ?? null;
  }

  /**
   * A reading of the replicas table at wall time `now`, with this replica's own row as it
   * knows it (its heartbeat may look old after an outage: it counts anyway). Returns true
   * when which jobs this replica fires may have changed (the view changed, or an overlap ended).
   */
  observe(rows: readonly Sighting[], self: Sighting, now: number): boolean {
    for (const row of rows) this.sightings.set(row.owner, row);
    this.sightings.set(self.owner, self);
    const candidates = [self, ...rows.filter((r) => r.owner !== self.owner && !r.leaving && now - r.seenAt < this.options.liveMs)];
    // The newest manifest's replicas own the jobs: a replica on an older one would have its claims refused.
    const newest = candidates.reduce((a, b) => (b.generation > a.generation || (b.generation === a.generation && b.digest < a.digest) ? b : a));
    const members = ranked(candidates.filter((r) => r.digest === newest.digest).map((r) => r.owner));
    const before = this.overlaps.length;
    this.overlaps = this.overlaps.filter((o) => o.until > now);
    if (this.view && sameNames(this.view, members)) return this.overlaps.length !== before;
    if (this.view) this.overlaps.push({ view: this.view, until: now + this.options.overlapMs });
    this.before = this.view;
    this.view = members;
    return true;
  }

  /** Whether this replica fires the job's schedule: it owns the job now, or did within the overlap. */
  owns(job: string): boolean {
    if (!this.view) return true;
    const h = hashString(job);
    if (ownerOf(h, this.view) === this.options.self) return true;
    return this.overlaps.some((o) => ownerOf(h, o.view) === this.options.self);
  }

  /**
   * For a job this replica owns since the last change: the wall time from which its fires
   * may have gone unclaimed, or null when nobody stopped claiming it (its previous owner is
   * still a member and fires it through its overlap, or this replica had it already).
   */
  unclaimedSince(job: string): number | null {
    if (!this.before || !this.view) return null;
    const previous = ownerOf(job, this.before);
    if (previous === undefined || previous === this.options.self || this.view.names.includes(previous)) return null;
    const last = this.sightings.get(previous);
    if (!last) return null;
    // A leaving owner fired until its handoff ended; a dead one until about its last heartbeat.
    return (last.leaving ? last.seenAt + this.options.handoffMs : last.seenAt) - this.options.marginMs;
  }
}

function sameNames(a: Ranked, b: Ranked): boolean {
  return a.names.length === b.names.length && a.names.every((name, i) => name === b.names[i]);
}
