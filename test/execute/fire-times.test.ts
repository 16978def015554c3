import { expect, test } from "vitest";
import type { Clock } from "../../runner/contracts/index.js";
import { FireTimes } from "../../runner/execute/fire-times.js";

/**
 * A clock whose timers come a millisecond early, as Node's can: they run on the monotonic
 * clock, and the wall clock (Date.now) may not have reached the time yet when one fires.
 * Its time moves only when a timer runs (to 1 ms short of the timer's due time).
 */
class EarlyClock implements Clock {
  private time = 1_000_000;
  private timers: Array<{ due: number; fn: () => void }> = [];
  now(): number {
    return this.time;
  }
  setTimeout(fn: () => void, ms: number): unknown {
    const timer = { due: this.time + ms, fn };
    this.timers.push(timer);
    return timer;
  }
  clearTimeout(handle: unknown): void {
    this.timers = this.timers.filter((t) => t !== handle);
  }
  /** Runs the next timer, 1 ms early when it is more than 1 ms away. */
  next(): void {
    this.timers.sort((a, b) => a.due - b.due);
    const timer = this.timers.shift();
    if (!timer) throw new Error("no timer armed");
    this.time = timer.due - this.time > 1 ? timer.due - 1 : Math.max(this.time, timer.due);
    timer.fn();
  }
}

test("a run claimed ahead starts at its fire time, never before, when the timer comes early", async () => {
  const clock = new EarlyClock();
  const times = new FireTimes(clock);
  const due = clock.now() + 500;
  const begunAt: number[] = [];
  const started = times.at(due, () => begunAt.push(clock.now()));
  const reached = times.until(due).then(() => clock.now());
  clock.next(); // the timer, 1 ms before the wall clock reaches `due`
  expect(begunAt).toEqual([]);
  clock.next(); // armed again for what was left
  expect(begunAt).toEqual([due]);
  await expect(started).resolves.toBe(1);
  await expect(reached).resolves.toBe(due);
});

test("runs sharing a fire time begin together, in the order claimed, on one timer; a time already come begins at once", async () => {
  const clock = new EarlyClock();
  const times = new FireTimes(clock);
  const due = clock.now() + 100;
  const order: string[] = [];
  const runs = ["a", "b", "c"].map((name) => times.at(due, () => order.push(name)));
  const now = await times.at(clock.now(), () => "now");
  expect(now).toBe("now");
  clock.next();
  clock.next();
  expect(order).toEqual(["a", "b", "c"]);
  await Promise.all(runs);
  expect(() => clock.next()).toThrow("no timer armed");
});
