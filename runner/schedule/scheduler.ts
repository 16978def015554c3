import type { Schedule } from "../types.js";
import { nextFire, scheduleKey } from "./next-fire.js";

/** Where time comes from. Tests pass a fake one and move it instead of sleeping. */
export interface Clock {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

/** One fire of one distinct schedule, for every job that shares it. */
export interface FireBatch {
  key: string;
  /** The exact scheduled time, never the time the timer woke up. */
  fireDate: Date;
  jobs: string[];
  /** Slots of this schedule dropped without a batch after a long stall (past maxCatchUpSlots). */
  skippedSlots: number;
}

export interface SchedulerOptions {
  clock?: Clock;
  onFire: (batch: FireBatch) => void;
  /** An exception thrown by onFire; the timer goes on. @default writes it to stderr */
  onError?: (err: unknown) => void;
  /** After a stall, at most this many missed slots per schedule are reported. @default 100 */
  maxCatchUpSlots?: number;
}

interface Group {
  key: string;
  schedule: Schedule;
  jobs: Set<string>;
  next: number;
  /** Set when the group left the scheduler; its heap entry is dropped when popped. */
  dead: boolean;
}

/** setTimeout takes at most 2^31-1 ms; re-reading the clock every 30 s also catches clock jumps. */
const MAX_WAIT_MS = 30_000;
/** Stall recovery walks at most this many slots of one schedule before jumping to now. */
const MAX_SLOT_WALK = 10_000;

/**
 * One timer over a min-heap of distinct schedules. node-schedule arms a timer per job and
 * spends over a millisecond per job on every tick (1,000 jobs on one cron start with a
 * p50 lateness of 0.9 s here); runlet groups jobs by schedule and fans each fire out.
 */
export class Scheduler {
  private readonly clock: Clock;
  private readonly groups = new Map<string, Group>();
  private readonly groupOf = new Map<string, Group>();
  private heap: Group[] = [];
  private timer: unknown = undefined;
  private running = false;
  private readonly maxCatchUpSlots: number;

  constructor(private readonly options: SchedulerOptions) {
    this.clock = options.clock ?? systemClock;
    this.maxCatchUpSlots = options.maxCatchUpSlots ?? 100;
  }

  get size(): number {
    return this.groupOf.size;
  }

  has(job: string): boolean {
    return this.groupOf.has(job);
  }

  /** Schedules a job; re-adding a name replaces its schedule (a name is never scheduled twice). */
  add(job: string, spec: Schedule): void {
    const key = scheduleKey(spec);
    const current = this.groupOf.get(job);
    if (current?.key === key) return;
    if (current) this.remove(job);
    let group = this.groups.get(key);
    if (!group) {
      const next = nextFire(spec, new Date(this.clock.now()));
      group = { key, schedule: spec, jobs: new Set(), next: next?.getTime() ?? Infinity, dead: false };
      this.groups.set(key, group);
      if (next) this.push(group);
    }
    group.jobs.add(job);
    this.groupOf.set(job, group);
    if (this.running && this.heap[0] === group) this.arm();
  }

  remove(job: string): void {
    const group = this.groupOf.get(job);
    if (!group) return;
    this.groupOf.delete(job);
    group.jobs.delete(job);
    if (group.jobs.size === 0) {
      group.dead = true;
      this.groups.delete(group.key);
    }
  }

  nextFireOf(job: string): Date | null {
    const group = this.groupOf.get(job);
    return group && Number.isFinite(group.next) ? new Date(group.next) : null;
  }

  /** Starts the timer. Fires missed while stopped are not replayed: each schedule restarts from now. */
  start(): void {
    if (this.running) return;
    this.running = true;
    const now = new Date(this.clock.now());
    this.heap = [];
    for (const group of this.groups.values()) {
      group.next = nextFire(group.schedule, now)?.getTime() ?? Infinity;
      if (Number.isFinite(group.next)) this.push(group);
    }
    this.arm();
  }

  stop(): void {
    this.running = false;
    this.clock.clearTimeout(this.timer);
    this.timer = undefined;
  }

  private arm(): void {
    this.clock.clearTimeout(this.timer);
    this.timer = undefined;
    while (this.heap[0]?.dead) this.pop();
    const first = this.heap[0];
    if (!this.running || !first) return;
    const wait = Math.min(Math.max(0, first.next - this.clock.now()), MAX_WAIT_MS);
    this.timer = this.clock.setTimeout(() => this.tick(), wait);
  }

  private tick(): void {
    this.timer = undefined;
    const now = this.clock.now();
    const batches: FireBatch[] = [];
    while (this.heap[0] && (this.heap[0].dead || this.heap[0].next <= now)) {
      const group = this.pop()!;
      if (group.dead) continue;
      const { slots, skipped, next } = this.dueSlots(group, now);
      group.next = next;
      if (Number.isFinite(next)) this.push(group);
      const jobs = [...group.jobs];
      slots.forEach((slot, i) => batches.push({ key: group.key, fireDate: new Date(slot), jobs, skippedSlots: i === 0 ? skipped : 0 }));
    }
    // The heap is settled before any callback runs, so callbacks may add and remove jobs.
    for (const batch of batches) {
      try {
        this.options.onFire(batch);
      } catch (err) {
        (this.options.onError ?? ((e) => process.stderr.write(`runlet: scheduler callback failed: ${String((e as Error)?.stack ?? e)}\n`)))(err);
      }
    }
    this.arm();
  }

  /** The slots of `group` due by `now` (the latest maxCatchUpSlots of them) and the one after. */
  private dueSlots(group: Group, now: number): { slots: number[]; skipped: number; next: number } {
    const slots: number[] = [];
    let skipped = 0;
    let slot: number = group.next;
    for (let walked = 0; slot <= now; walked++) {
      if (walked === MAX_SLOT_WALK) {
        // Days behind on a per-second schedule: stop walking, resume from now.
        skipped += 1;
        slot = nextFire(group.schedule, new Date(now))?.getTime() ?? Infinity;
        break;
      }
      slots.push(slot);
      if (slots.length > this.maxCatchUpSlots) {
        slots.shift();
        skipped++;
      }
      slot = nextFire(group.schedule, new Date(slot))?.getTime() ?? Infinity;
    }
    return { slots, skipped, next: slot };
  }

  private push(group: Group): void {
    const heap = this.heap;
    heap.push(group);
    let i = heap.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (heap[parent]!.next <= group.next) break;
      heap[i] = heap[parent]!;
      i = parent;
    }
    heap[i] = group;
  }

  private pop(): Group | undefined {
    const heap = this.heap;
    const top = heap[0];
    const last = heap.pop();
    if (heap.length > 0 && last) {
      let i = 0;
      for (;;) {
        const left = 2 * i + 1;
        if (left >= heap.length) break;
        const right = left + 1;
        const child = right < heap.length && heap[right]!.next < heap[left]!.next ? right : left;
        if (heap[child]!.next >= last.next) break;
        heap[i] = heap[child]!;
        i = child;
      }
      heap[i] = last;
    }
    return top;
  }
}
