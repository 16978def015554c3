import type { Clock, Schedule } from "../contracts/index.js";
import { nextFire, type Scheduler } from "../schedule/index.js";

/**
 * The jobs' schedules as the reload pipeline and the hosted jobs see them, in front of the
 * timer heap: every scheduled job is known here, and only those this replica fires (all of
 * them, unless replicas split the schedule) are armed in the heap. A job another replica
 * owns is held cold: no heap entry, no next fire computed on every tick.
 */
export class OwnedSchedules {
  private readonly schedules = new Map<string, Schedule>();

  constructor(
    private readonly timers: Scheduler,
    private readonly clock: Clock,
    private readonly owns: (job: string) => boolean = () => true,
  ) {}

  /** Jobs with a schedule, armed here or not. */
  get size(): number {
    return this.schedules.size;
  }

  /** Jobs armed in this replica's timer heap. */
  get armed(): number {
    return this.timers.size;
  }

  /** The jobs armed here. */
  *armedJobs(): IterableIterator<string> {
    for (const job of this.schedules.keys()) if (this.timers.has(job)) yield job;
  }

  has(job: string): boolean {
    return this.schedules.has(job);
  }

  /** Schedules a job (replacing its schedule); armed only when this replica fires it. Throws what the heap throws for a schedule it cannot compute. */
  add(job: string, schedule: Schedule): void {
    if (this.owns(job)) this.timers.add(job, schedule);
    else this.timers.remove(job);
    this.schedules.set(job, schedule);
  }

  remove(job: string): void {
    this.schedules.delete(job);
    this.timers.remove(job);
  }

  /** When the job fires next in the group: armed here, the heap's; held cold, computed from its schedule. */
  nextFireOf(job: string): Date | null {
    if (this.timers.has(job)) return this.timers.nextFireOf(job);
    const schedule = this.schedules.get(job);
    return schedule ? nextFire(schedule, new Date(this.clock.now())) : null;
  }

  /** After ownership changed: arms the jobs owned now, sets the others cold. Returns the jobs armed by this call. */
  rearm(): string[] {
    const armed: string[] = [];
    for (const [job, schedule] of this.schedules) {
      const owned = this.owns(job);
      if (owned === this.timers.has(job)) continue;
      if (owned) {
        this.timers.add(job, schedule);
        armed.push(job);
      } else {
        this.timers.remove(job);
      }
    }
    return armed;
  }

  start(): void {
    this.timers.start();
  }

  stop(): void {
    this.timers.stop();
  }
}
