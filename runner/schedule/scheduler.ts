import { RunletError } from "../errors.js";
import { type Clock, type Schedule, systemClock } from "../contracts/index.js";
import { dueSlots } from "./due-slots.js";
import { MinHeap } from "./min-heap.js";
import { nextFire, scheduleKey } from "./next-fire.js";

/** One fire of one distinct schedule, for every job that shares it. */
export interface FireBatch {
  /** The schedule's identity ({@link scheduleKey}). */
  key: string;
  /** The exact scheduled time, never the time the timer woke up: the caller judges lateness (and waits for it, given a lead). */
  fireDate: Date;
  /** The jobs on this schedule, in the order they were added. */
  jobs: string[];
  /**
   * Due slots of this schedule, older than this one, that were not reported because more
   * than `maxCatchUpSlots` came due in one wake (a long stall): the caller can log them.
   * Set on the first batch reported for the schedule in that wake, 0 otherwise. Exact up
   * to 10,000 due slots (hours behind on a per-second schedule); past that a lower bound,
   * as the walk stops there and the schedule resumes from now.
   */
  skippedSlots: number;
}

export interface SchedulerOptions {
  /** @default systemClock */
  clock?: Clock;
  /** Called once per due slot of each schedule, oldest first. */
  onFire: (batch: FireBatch) => void;
  /**
   * Gets what `onFire` threw; the timer goes on either way.
   * @default rethrows it from a microtask, as an uncaught exception: a bug there is never silent
   */
  onError?: (err: unknown, batch: FireBatch) => void;
  /** After a stall, at most this many due slots per schedule are reported per wake; older ones are counted in `skippedSlots`. @default 100 */
  maxCatchUpSlots?: number;
  /**
   * Each batch is delivered this long before its `fireDate` (replicas claim a fire ahead
   * of its time and start it at its time). @default 0: at its time
   */
  leadMs?: number;
}

const DEFAULTS = {
  clock: systemClock,
  onError: (err: unknown) => queueMicrotask(() => {
    throw err;
  }),
  maxCatchUpSlots: 100,
  leadMs: 0,
} satisfies Partial<SchedulerOptions>;

/** setTimeout takes at most 2^31-1 ms; re-reading the clock every 30 s also catches clock jumps. */
const MAX_WAIT_MS = 30_000;

/** The jobs sharing one distinct schedule. */
interface Group {
  key: string;
  schedule: Schedule;
  jobs: Set<string>;
  /** Next fire in ms; Infinity when the schedule has none left (the group is then out of the heap). */
  next: number;
  /** The clock's time when `next` was computed: `next` is the first fire after it. */
  since: number;
  /** Creation order: batches due at the same time are delivered oldest group first. */
  seq: number;
  heapIndex: number;
  /** The newest fire delivered (ahead of its time, given a lead); -Infinity before the first. */
  delivered: number;
}

/**
 * One timer over a min-heap of distinct schedules. node-schedule arms a timer per job and
 * spends over a millisecond per job on every tick (1,000 jobs on one cron start with a
 * p50 lateness of 0.9 s here); runlet groups jobs by schedule and fans each fire out
 * (the same 1,000 jobs: 1–3 ms late; test/bench/schedule-add.mjs).
 */
export class Scheduler {
  private readonly clock: Clock;
  private readonly onFire: (batch: FireBatch) => void;
  private readonly onError: (err: unknown, batch: FireBatch) => void;
  private readonly maxCatchUpSlots: number;
  private readonly leadMs: number;
  private readonly groups = new Map<string, Group>();
  private readonly groupOf = new Map<string, Group>();
  private readonly heap = new MinHeap<Group>((group) => group.next);
  private timer: unknown = undefined;
  private running = false;
  /** Bumped by start() and stop(): a wake delivering batches stops when a callback stopped the scheduler. */
  private generation = 0;
  /** Bumped by add() and remove(): a wake re-checks its batches' jobs when a callback changed them. */
  private changes = 0;
  private groupsCreated = 0;
  /** Jobs that joined a group whose fire was delivered ahead and is not yet due: that fire is theirs too. */
  private joiners: Array<{ job: string; group: Group; fireDate: number }> = [];
  private joinTimer: unknown = undefined;

  constructor(options: SchedulerOptions) {
    this.clock = options.clock ?? DEFAULTS.clock;
    this.onFire = options.onFire;
    this.onError = options.onError ?? DEFAULTS.onError;
    this.maxCatchUpSlots = options.maxCatchUpSlots ?? DEFAULTS.maxCatchUpSlots;
    if (!Number.isInteger(this.maxCatchUpSlots) || this.maxCatchUpSlots < 1) {
      throw new RunletError("OPTION_INVALID", `SchedulerOptions.maxCatchUpSlots must be a whole number of at least 1 (got ${this.maxCatchUpSlots})`);
    }
    this.leadMs = options.leadMs ?? DEFAULTS.leadMs;
    if (!Number.isFinite(this.leadMs) || this.leadMs < 0) {
      throw new RunletError("OPTION_INVALID", `SchedulerOptions.leadMs must be a number of milliseconds of at least 0 (got ${this.leadMs})`);
    }
  }

  /** How many jobs are scheduled. */
  get size(): number {
    return this.groupOf.size;
  }

  has(job: string): boolean {
    return this.groupOf.has(job);
  }

  /** Schedules a job. Re-adding a name replaces its schedule: a name is never scheduled twice. */
  add(job: string, schedule: Schedule): void {
    const key = scheduleKey(schedule);
    const current = this.groupOf.get(job);
    if (current?.key === key) return;
    let group = this.groups.get(key);
    if (!group) {
      // A new group's first fire is computed once; joining an existing group never moves it.
      // Computed before the job leaves its old group, so a schedule that throws changes nothing.
      const now = this.clock.now();
      group = { key, schedule, jobs: new Set(), next: this.firstFireAfter(schedule, now), since: now, seq: this.groupsCreated++, heapIndex: -1, delivered: -Infinity };
      this.groups.set(key, group);
      if (Number.isFinite(group.next)) this.heap.push(group);
    }
    if (current) this.detach(job, current);
    group.jobs.add(job);
    this.groupOf.set(job, group);
    this.changes++;
    // Without this, a job added within the lead of its group's next fire would first fire one period later.
    if (this.running && group.delivered > this.clock.now()) this.joinLate(job, group);
    if (this.running && this.heap.peek() === group) this.arm();
  }

  remove(job: string): void {
    const group = this.groupOf.get(job);
    if (group) this.detach(job, group);
  }

  nextFireOf(job: string): Date | null {
    const next = this.groupOf.get(job)?.next;
    return next !== undefined && Number.isFinite(next) ? new Date(next) : null;
  }

  /** Starts firing. Fires that came due while stopped are not replayed: each schedule goes on from now. */
  start(): void {
    if (this.running) return;
    this.running = true;
    this.generation++;
    const now = this.clock.now();
    for (const group of this.groups.values()) {
      // `next` is the first fire after `since`; still ahead, it is the first after now too.
      if (group.next <= now || now < group.since) {
        group.next = this.firstFireAfter(group.schedule, now);
        group.since = now;
      }
    }
    this.heap.reset([...this.groups.values()].filter((group) => Number.isFinite(group.next)));
    this.arm();
  }

  /** Stops firing, at once: no batch is delivered after this returns, even one of a wake in progress. */
  stop(): void {
    this.running = false;
    this.generation++;
    this.clock.clearTimeout(this.joinTimer);
    this.joinTimer = undefined;
    this.joiners = [];
    this.clock.clearTimeout(this.timer);
    this.timer = undefined;
  }

  private detach(job: string, group: Group): void {
    this.groupOf.delete(job);
    group.jobs.delete(job);
    this.changes++;
    if (group.jobs.size > 0) return;
    this.groups.delete(group.key);
    const wasFirst = this.heap.peek() === group;
    this.heap.remove(group);
    if (wasFirst && this.running) this.arm();
  }

  private firstFireAfter(schedule: Schedule, now: number): number {
    return nextFire(schedule, new Date(now))?.getTime() ?? Infinity;
  }

  private arm(): void {
    this.clock.clearTimeout(this.timer);
    this.timer = undefined;
    const first = this.heap.peek();
    if (!this.running || !first) return;
    const wait = Math.min(Math.max(0, first.next - this.leadMs - this.clock.now()), MAX_WAIT_MS);
    this.timer = this.clock.setTimeout(() => this.wake(), wait);
  }

  private wake(): void {
    this.timer = undefined;
    const now = this.clock.now();
    // With a lead, the slots due by then are delivered now (each with its own time).
    const by = now + this.leadMs;
    const due: Array<{ group: Group; batch: FireBatch }> = [];
    for (let group = this.heap.peek(); group && group.next <= by; group = this.heap.peek()) {
      const { slots, skipped, next } = dueSlots(group.schedule, group.next, by, this.maxCatchUpSlots);
      group.next = next;
      group.since = now;
      if (slots.length > 0) group.delivered = slots.at(-1)!;
      if (Number.isFinite(next)) this.heap.update(group);
      else this.heap.remove(group);
      const jobs = [...group.jobs];
      slots.forEach((slot, i) => {
        due.push({ group, batch: { key: group.key, fireDate: new Date(slot), jobs: i === 0 ? jobs : [...jobs], skippedSlots: i === 0 ? skipped : 0 } });
      });
    }
    // The heap is settled before any callback runs, so callbacks may add, remove, stop.
    due.sort((a, b) => a.batch.fireDate.getTime() - b.batch.fireDate.getTime() || a.group.seq - b.group.seq);
    try {
      this.deliver(due);
    } finally {
      this.arm();
    }
  }

  /** Hands `job` its group's fire delivered ahead, in one batch with the others that joined meanwhile, from a timer: never inside add(). */
  private joinLate(job: string, group: Group): void {
    this.joiners.push({ job, group, fireDate: group.delivered });
    this.joinTimer ??= this.clock.setTimeout(() => {
      this.joinTimer = undefined;
      const batches = new Map<string, { group: Group; batch: FireBatch }>();
      const seen = new Set<string>();
      for (const { job: name, group: joined, fireDate } of this.joiners.splice(0)) {
        const id = `${joined.seq} ${fireDate}`;
        // Gone from the group since (removed, moved), or added twice: as in a wake, once or not at all.
        if (this.groupOf.get(name) !== joined || seen.has(`${id} ${name}`)) continue;
        seen.add(`${id} ${name}`);
        let entry = batches.get(id);
        if (!entry) batches.set(id, (entry = { group: joined, batch: { key: joined.key, fireDate: new Date(fireDate), jobs: [], skippedSlots: 0 } }));
        entry.batch.jobs.push(name);
      }
      this.deliver([...batches.values()]);
    }, 0);
  }

  private deliver(due: Array<{ group: Group; batch: FireBatch }>): void {
    const generation = this.generation;
    const changes = this.changes;
    for (const { group, batch } of due) {
      if (this.generation !== generation) return;
      // A job removed (or moved to another schedule) by an earlier callback gets no more fires.
      if (this.changes !== changes) batch.jobs = batch.jobs.filter((job) => this.groupOf.get(job) === group);
      if (batch.jobs.length === 0) continue;
      try {
        this.onFire(batch);
      } catch (err) {
        this.onError(err, batch);
      }
    }
  }
}
