import { hashString, ownerOf, ranked, type Ranked } from "./rendezvous.js";

/** One replica's row of the replicas table, as read at one moment. */
export interface Sighting {
  owner: string;
  /** Wall-clock ms of its last heartbeat: the database's age of it, taken from this replica's clock. */
  seenAt: number;
  /** It announced a graceful stop: it fires its jobs until `seenAt + handoffMs`, then stops. */
  leaving: boolean;
  /** A digest of its manifest's specs: replicas with equal digests can claim the same jobs. Empty: it races (fires every job itself). */
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

/** A member that left the view at the last change: from when its jobs' fires may have gone unclaimed. */
interface Lapse {
  since: number;
  /** Views that ended before this were surely seen by it: it handed their jobs on. */
  seenFrom: number;
}

/**
 * Which jobs this replica fires on schedule: those it owns by rendezvous hashing over the
 * live members (fresh heartbeat, not leaving, on the newest manifest, publishing a digest),
 * plus, for `overlapMs` after each change, those it owned before. Pure: readings and times
 * are given.
 *
 * Views of different replicas may differ for a moment (each reads the table on its own
 * tick). A replica always counts itself while its manifest is current, so a disagreement
 * makes two replicas claim a fire (one wins, the database decides), and a job that lost
 * its owner to a crash or a stop is taken over with {@link unclaimedSince}: its owner now
 * claims the fires since the old one's last heartbeat.
 *
 * A row with an empty digest is a replica that races (`?partition=off`, or a runlet from
 * before the schedule was split): it fires every job itself, so it is no member, whatever
 * its manifest's time; counting it would leave jobs to it that it may stop firing without
 * handing them over.
 */
export class Membership {
  private view: Ranked | null = null;
  /**
   * Views this replica held, with when each ended, back to the oldest a member may still
   * have been firing from: a member that lapses fired the jobs it owned in any of them
   * (it may have died before it saw the later ones). The first entry of a replica is the
   * group without it: a member that died before seeing it join owned those jobs.
   */
  private history: Array<{ view: Ranked; until: number }> = [];
  private lapses = new Map<string, Lapse>();
  private overlaps: Array<{ view: Ranked; until: number }> = [];
  /** The rows of the last reading (a replica whose row is gone is forgotten). */
  private sightings = new Map<string, Sighting>();

  constructor(private readonly options: MembershipOptions) {}

  /** The members of the current view, sorted; null before the first reading (every job is fired here). */
  get members(): readonly string[] | null {
    return this.view?.names ?? null;
  }

  /** How many replicas' rows this replica remembers (those of its last reading). */
  get remembered(): number {
    return this.sightings.size;
  }

  /** Whether another replica's row says it is alive and staying, whatever its manifest: it can take this replica's jobs. */
  othersAlive(now: number): boolean {
    return [...this.sightings.values()].some((r) => r.owner !== this.options.self && !r.leaving && now - r.seenAt < this.options.liveMs);
  }

  /**
   * A reading of the replicas table at wall time `now`, with this replica's own row as it
   * knows it (its heartbeat may look old after an outage: it counts anyway). Returns true
   * when which jobs this replica fires may have changed (the view changed, or an overlap ended).
   */
  observe(rows: readonly Sighting[], self: Sighting, now: number): boolean {
    const previous = this.sightings;
    this.sightings = new Map(rows.map((r) => [r.owner, r]));
    this.sightings.set(self.owner, self);
    const { liveMs, marginMs, handoffMs } = this.options;
    const candidates = [self, ...rows.filter((r) => r.owner !== self.owner && !r.leaving && r.digest !== "" && now - r.seenAt < liveMs)];
    // The newest manifest's replicas own the jobs: a replica on an older one would have its claims refused.
    const newest = candidates.reduce((a, b) => (b.generation > a.generation || (b.generation === a.generation && b.digest < a.digest) ? b : a));
    const members = ranked(candidates.filter((r) => r.digest === newest.digest).map((r) => r.owner));
    const overlapping = this.overlaps.length;
    this.overlaps = this.overlaps.filter((o) => o.until > now);
    // A lapse is taken over at the change that shows it, once.
    this.lapses = new Map();
    if (this.view && sameNames(this.view, members)) return this.overlaps.length !== overlapping;
    const last = (name: string) => this.sightings.get(name) ?? previous.get(name);
    if (this.view) {
      this.overlaps.push({ view: this.view, until: now + this.options.overlapMs });
      // Views every member of the ending one has seen are of no use to a later takeover.
      const seen = this.view.names.filter((n) => n !== self.owner).map((n) => (last(n)?.seenAt ?? now) - marginMs);
      const oldest = Math.min(now, ...seen);
      this.history = this.history.filter((h) => h.until >= oldest);
      this.history.push({ view: this.view, until: now });
      for (const name of this.view.names) {
        const row = last(name);
        if (name === self.owner || members.names.includes(name) || !row) continue;
        // A leaving owner fired until its handoff ended; a dead one until about its last heartbeat.
        this.lapses.set(name, { since: (row.leaving ? row.seenAt + handoffMs : row.seenAt) - marginMs, seenFrom: row.seenAt - marginMs });
      }
    } else {
      this.history = [{ view: ranked(members.names.filter((n) => n !== self.owner)), until: now }];
    }
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
   * For a job this replica owns: the wall time from which its fires may have gone
   * unclaimed, when a member that owned it (in any view it may still have been firing
   * from, including the group before this replica joined) left the view at the last
   * change; null when nobody stopped claiming it.
   */
  unclaimedSince(job: string): number | null {
    if (this.lapses.size === 0 || !this.view) return null;
    const h = hashString(job);
    if (ownerOf(h, this.view) !== this.options.self) return null;
    let since: number | null = null;
    for (const [name, lapse] of this.lapses) {
      if (since !== null && lapse.since >= since) continue;
      if (this.history.some((v) => v.until >= lapse.seenFrom && ownerOf(h, v.view) === name)) since = lapse.since;
    }
    return since;
  }
}

function sameNames(a: Ranked, b: Ranked): boolean {
  return a.names.length === b.names.length && a.names.every((name, i) => name === b.names[i]);
}
