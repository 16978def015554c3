import type { Clock } from "../contracts/index.js";

interface Slot {
  /** Each run claimed ahead of this time: begun in the order claimed. */
  begins: Array<() => void>;
  /** Resolved after the begins: what waits for the time itself (an exclusive job's claim). */
  reached: Promise<void>;
  reach: () => void;
}

/**
 * The fire times that runs claimed ahead wait for: one timer per fire time, however many
 * runs share it. At the time every waiting run is begun before any continuation runs, so
 * a thousand-job fire starts its last handler without waiting behind the others'
 * bookkeeping (as the dispatcher's fireAll does for a fire claimed at its time).
 */
export class FireTimes {
  private readonly slots = new Map<number, Slot>();

  constructor(private readonly clock: Clock) {}

  /** Resolves at `time` (at once when it has come). */
  until(time: number): Promise<void> {
    return time > this.clock.now() ? this.slot(time).reached : Promise.resolve();
  }

  /**
   * Calls `begin` at `time`, with the other begins of that time, and resolves with what it
   * returned (rejects with what it threw); at once when the time has come.
   */
  at<T>(time: number, begin: () => T): Promise<T> {
    if (time <= this.clock.now()) return new Promise((resolve) => resolve(begin()));
    return new Promise<T>((resolve, reject) => {
      this.slot(time).begins.push(() => {
        try {
          resolve(begin());
        } catch (err) {
          reject(err);
        }
      });
    });
  }

  private slot(time: number): Slot {
    let slot = this.slots.get(time);
    if (slot) return slot;
    let reach!: () => void;
    const reached = new Promise<void>((resolve) => (reach = resolve));
    const created: Slot = { begins: [], reached, reach };
    // Never cleared: what waits for a fire time was claimed, and runs (or claims) at it whatever happens meanwhile.
    this.clock.setTimeout(() => this.fire(time, created), time - this.clock.now());
    this.slots.set(time, created);
    return created;
  }

  private fire(time: number, slot: Slot): void {
    // A timer runs on the monotonic clock and may come a millisecond before the wall clock
    // reaches its time: a run claimed ahead never starts before its fire time.
    const early = time - this.clock.now();
    if (early > 0) {
      this.clock.setTimeout(() => this.fire(time, slot), early);
      return;
    }
    this.slots.delete(time);
    for (const begin of slot.begins) begin();
    slot.reach();
  }
}
