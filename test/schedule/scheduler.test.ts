import { afterEach, beforeEach, expect, test, vi } from "vitest";
import { Scheduler, nextFires, type FireBatch } from "../../runner/schedule/index.js";
import type { Schedule } from "../../runner/contracts/index.js";
import { FakeClock } from "../support/fake-clock.js";

const cron = (expr: string, timezone: string | null = null): Schedule => ({ kind: "cron", cron: expr, timezone, start: null, end: null });
const everySecond = cron("* * * * * *");
const everyFive: Schedule = { kind: "every", everyMs: 5000 };

let clock: FakeClock;
let batches: FireBatch[];
let scheduler: Scheduler;
/** Batches as "HH:MM:SS.mmm jobs (+skipped)", in the order they were delivered. */
const fired = () => batches.map((b) => `${b.fireDate.toISOString().slice(11, 23)} ${b.jobs.join(",")}${b.skippedSlots ? ` (+${b.skippedSlots} skipped)` : ""}`);

beforeEach(() => {
  clock = new FakeClock(Date.UTC(2026, 0, 1, 0, 0, 0, 400));
  batches = [];
  scheduler = new Scheduler({ clock, onFire: (b) => batches.push(b), maxCatchUpSlots: 3 });
});

afterEach(() => {
  scheduler.stop();
  vi.restoreAllMocks();
});

test("jobs sharing a schedule fire in one batch, at the exact scheduled time", async () => {
  scheduler.add("a", everySecond);
  scheduler.add("b", { ...everySecond });
  scheduler.add("c", everyFive);
  scheduler.start();
  expect(clock.pendingDelays()).toEqual([600]);
  await clock.advance(5000);
  expect(fired()).toEqual(["00:00:01.000 a,b", "00:00:02.000 a,b", "00:00:03.000 a,b", "00:00:04.000 a,b", "00:00:05.000 a,b", "00:00:05.000 c"]);
  expect(scheduler.nextFireOf("c")?.toISOString()).toBe("2026-01-01T00:00:10.000Z");
  expect(scheduler.size).toBe(3);
});

test("a timer that wakes late still reports the scheduled time, not the wake time", async () => {
  scheduler.add("a", everyFive);
  scheduler.start();
  clock.stall(4900); // now 00:00:05.300: the timer set for 00:00:05.000 runs 300 ms late
  await clock.advance(0);
  expect(batches.map((b) => b.fireDate.toISOString())).toEqual(["2026-01-01T00:00:05.000Z"]);
  expect(clock.now() - batches[0]!.fireDate.getTime()).toBe(300);
});

test("a job name is never scheduled twice (node-schedule's duplicate-name orphan); re-adding replaces its schedule", async () => {
  scheduler.add("a", everySecond);
  scheduler.add("a", everyFive);
  scheduler.add("a", { ...everyFive });
  expect(scheduler.size).toBe(1);
  scheduler.start();
  await clock.advance(5000);
  expect(fired()).toEqual(["00:00:05.000 a"]);
  scheduler.remove("a");
  expect(scheduler.has("a")).toBe(false);
  await clock.advance(10_000);
  expect(fired()).toEqual(["00:00:05.000 a"]);
});

test("removed jobs stop firing; a group left empty is dropped with its timer", async () => {
  scheduler.add("a", everySecond);
  scheduler.add("b", everySecond);
  scheduler.start();
  await clock.advance(1000);
  scheduler.remove("a");
  await clock.advance(1000);
  scheduler.remove("b");
  expect(clock.pendingDelays()).toEqual([]);
  await clock.advance(3000);
  expect(fired()).toEqual(["00:00:01.000 a,b", "00:00:02.000 b"]);
  expect(scheduler.nextFireOf("b")).toBeNull();
});

test("adding a job to a group does not move the group's next fire", async () => {
  scheduler.add("a", everyFive);
  scheduler.start();
  await clock.advance(3000);
  scheduler.add("b", everyFive);
  expect(scheduler.nextFireOf("b")?.toISOString()).toBe("2026-01-01T00:00:05.000Z");
  await clock.advance(2000);
  expect(fired()).toEqual(["00:00:05.000 a,b"]);
});

test("after a stall each missed slot is reported in order with its own time; past the cap the oldest are counted", async () => {
  scheduler.add("a", everySecond);
  scheduler.add("b", { kind: "every", everyMs: 2000 });
  scheduler.start();
  // The event loop was blocked for 6.5 s: the timer wakes once, late.
  clock.stall(6500);
  await clock.advance(0);
  expect(fired()).toEqual(["00:00:02.000 b", "00:00:04.000 a (+3 skipped)", "00:00:04.000 b", "00:00:05.000 a", "00:00:06.000 a", "00:00:06.000 b"]);
  expect(scheduler.nextFireOf("a")?.toISOString()).toBe("2026-01-01T00:00:07.000Z");
  await clock.advance(600);
  expect(fired().at(-1)).toBe("00:00:07.000 a");
});

test("a stall of days on a per-second schedule is walked at most 10,000 slots, then resumes from now", async () => {
  scheduler.add("a", everySecond);
  scheduler.start();
  clock.stall(2 * 86_400_000);
  await clock.advance(0);
  expect(batches).toHaveLength(3);
  expect(batches[0]!.skippedSlots).toBe(10_000 - 3);
  expect(scheduler.nextFireOf("a")?.toISOString()).toBe("2026-01-03T00:00:01.000Z");
});

test("stop() stops firing; start() resumes from now without replaying", async () => {
  scheduler.add("a", everySecond);
  scheduler.start();
  await clock.advance(1000);
  scheduler.stop();
  expect(clock.pendingDelays()).toEqual([]);
  await clock.advance(5000);
  expect(fired()).toEqual(["00:00:01.000 a"]);
  scheduler.start();
  await clock.advance(1000);
  expect(fired()).toEqual(["00:00:01.000 a", "00:00:07.000 a"]);
});

test("stop() inside a callback drops the rest of that wake's batches", async () => {
  scheduler = new Scheduler({ clock, onFire: (b) => (batches.push(b), scheduler.stop()) });
  scheduler.add("a", everySecond);
  scheduler.start();
  clock.stall(3000);
  await clock.advance(0);
  expect(fired()).toEqual(["00:00:01.000 a"]);
  expect(clock.pendingDelays()).toEqual([]);
});

test("never waits more than 30 s before reading the clock again, however far the next fire is", async () => {
  scheduler.add("daily", cron("0 0 * * *", "UTC"));
  scheduler.add("far", { kind: "at", at: new Date("2099-01-01T00:00:00Z") }); // past setTimeout's 2^31 ms
  scheduler.start();
  expect(clock.pendingDelays()).toEqual([30_000]);
  await clock.advance(30_000);
  expect(clock.pendingDelays()).toEqual([30_000]);
  expect(batches).toEqual([]);
  await clock.advance(86_400_000 - 30_400);
  expect(fired()).toEqual(["00:00:00.000 daily"]);
});

test("a wall clock that jumps forward fires what came due; one that jumps back waits for the time it had reached", async () => {
  // Timers run on a monotonic clock; Date.now() follows the wall clock, which NTP may move.
  let jump = 0;
  const wall = { now: () => clock.now() + jump, setTimeout: clock.setTimeout.bind(clock), clearTimeout: clock.clearTimeout.bind(clock) };
  scheduler = new Scheduler({ clock: wall, onFire: (b) => batches.push(b) });
  scheduler.add("a", cron("0 * * * *"));
  scheduler.start();
  jump = 2 * 3_600_000;
  await clock.advance(30_000);
  expect(fired()).toEqual(["01:00:00.000 a", "02:00:00.000 a"]);
  jump = 3_600_000; // back one hour: 01:00 and 02:00 fired already, and do not again
  await clock.advance(2 * 3_600_000);
  expect(fired()).toEqual(["01:00:00.000 a", "02:00:00.000 a", "03:00:00.000 a"]);
});

test("onFire throwing does not stop the timer; onError gets the error and the batch", async () => {
  const errors: Array<[unknown, FireBatch]> = [];
  scheduler = new Scheduler({
    clock,
    onError: (err, batch) => errors.push([err, batch]),
    onFire: (b) => {
      batches.push(b);
      throw new Error(`dispatch bug at ${b.fireDate.toISOString()}`);
    },
  });
  scheduler.add("a", everySecond);
  scheduler.start();
  await clock.advance(3000);
  expect(fired()).toEqual(["00:00:01.000 a", "00:00:02.000 a", "00:00:03.000 a"]);
  expect(errors.map(([err, batch]) => [(err as Error).message, batch.jobs])).toEqual([
    ["dispatch bug at 2026-01-01T00:00:01.000Z", ["a"]],
    ["dispatch bug at 2026-01-01T00:00:02.000Z", ["a"]],
    ["dispatch bug at 2026-01-01T00:00:03.000Z", ["a"]],
  ]);
});

test("without onError, what onFire threw is rethrown from a microtask, never swallowed", async () => {
  const microtasks: Array<() => void> = [];
  scheduler = new Scheduler({
    clock,
    onFire: () => {
      throw new Error("dispatch bug");
    },
  });
  scheduler.add("a", everySecond);
  scheduler.start();
  const spy = vi.spyOn(globalThis, "queueMicrotask").mockImplementation((fn) => void microtasks.push(fn));
  await clock.advance(2000);
  spy.mockRestore();
  expect(microtasks).toHaveLength(2);
  expect(() => microtasks[0]!()).toThrow("dispatch bug");
  expect(clock.pendingDelays()).toEqual([600]);
});

test("callbacks may add and remove jobs: a job removed in a callback gets no later batch of the same wake", async () => {
  scheduler = new Scheduler({
    clock,
    onFire: (b) => {
      batches.push(b);
      if (batches.length === 1) {
        scheduler.remove("b");
        scheduler.add("c", everySecond);
        scheduler.add("d", everyFive);
      }
    },
  });
  scheduler.add("a", everySecond);
  scheduler.add("b", everySecond);
  scheduler.start();
  clock.stall(2000); // two slots due at once: 00:00:01 and 00:00:02
  await clock.advance(0);
  expect(fired()).toEqual(["00:00:01.000 a,b", "00:00:02.000 a"]);
  await clock.advance(3000);
  expect(fired().slice(2)).toEqual(["00:00:03.000 a,c", "00:00:04.000 a,c", "00:00:05.000 a,c", "00:00:05.000 d"]);
});

test("100,000 jobs over 1,000 schedules: one batch per schedule and slot, every job in it", async () => {
  const schedules = Array.from({ length: 1000 }, (_, i) => cron(`${i % 60} ${Math.floor(i / 60)} * * * *`));
  for (let j = 0; j < 100_000; j++) scheduler.add(`job-${j}`, schedules[j % 1000]!);
  expect(scheduler.size).toBe(100_000);
  scheduler.start();
  await clock.advance(3_600_000);
  expect(batches).toHaveLength(1000);
  expect(batches.every((b) => b.jobs.length === 100)).toBe(true);
  expect(new Set(batches.flatMap((b) => b.jobs)).size).toBe(100_000);
  expect(batches.map((b) => b.fireDate.getTime())).toEqual([...batches.map((b) => b.fireDate.getTime())].sort((x, y) => x - y));
});

test("fires across a DST change are the ones nextFires lists (one arithmetic for both)", async () => {
  const berlin = cron("30 2 * * *", "Europe/Berlin");
  clock = new FakeClock(Date.UTC(2026, 2, 27, 12));
  scheduler = new Scheduler({ clock, onFire: (b) => batches.push(b) });
  scheduler.add("nightly", berlin);
  scheduler.start();
  await clock.advance(3 * 86_400_000);
  expect(batches.map((b) => b.fireDate.toISOString())).toEqual(nextFires(berlin, new Date(Date.UTC(2026, 2, 27, 12)), 3).map((d) => d.toISOString()));
  expect(batches.map((b) => b.fireDate.toISOString())).toEqual(["2026-03-28T01:30:00.000Z", "2026-03-29T01:30:00.000Z", "2026-03-30T00:30:00.000Z"]);
});

test("a one-off schedule fires once and leaves nothing armed", async () => {
  scheduler.add("once", { kind: "at", at: new Date(Date.UTC(2026, 0, 1, 0, 0, 2)) });
  scheduler.add("past", { kind: "at", at: new Date(Date.UTC(2025, 0, 1)) });
  scheduler.start();
  await clock.advance(10_000);
  expect(fired()).toEqual(["00:00:02.000 once"]);
  expect(scheduler.nextFireOf("once")).toBeNull();
  expect(scheduler.nextFireOf("past")).toBeNull();
  expect(scheduler.has("once")).toBe(true);
  expect(clock.pendingDelays()).toEqual([]);
});

test("maxCatchUpSlots below 1 is refused", () => {
  expect(() => new Scheduler({ clock, onFire: () => {}, maxCatchUpSlots: 0 })).toThrow(expect.objectContaining({ code: "OPTION_INVALID" }));
});

test("with a lead, each batch is delivered that long before its time, with its exact time; after a stall the slots due by then come at once", async () => {
  const at = (t: number) => new Date(t).toISOString().slice(11, 23);
  const delivered: string[] = [];
  const ahead = new Scheduler({ clock, onFire: (b) => delivered.push(`${at(b.fireDate.getTime())} at ${at(clock.now())}`), leadMs: 250 });
  ahead.add("a", everySecond);
  ahead.start();
  // 00:00:00.400: the fire of 00:00:01.000 is due at 00:00:00.750.
  expect(clock.pendingDelays()).toEqual([350]);
  await clock.advance(2300);
  expect(delivered).toEqual(["00:00:01.000 at 00:00:00.750", "00:00:02.000 at 00:00:01.750"]);
  clock.stall(2100); // now 00:00:04.800: 3 and 4 are late, 5 is within its lead
  await clock.advance(0);
  ahead.stop();
  expect(delivered.slice(2)).toEqual(["00:00:03.000 at 00:00:04.800", "00:00:04.000 at 00:00:04.800", "00:00:05.000 at 00:00:04.800"]);
  expect(() => new Scheduler({ clock, onFire: () => undefined, leadMs: -1 })).toThrow(/leadMs must be a number of milliseconds of at least 0 \(got -1\)/);
});

test("with a lead, a job joining a group whose fire was delivered but is not yet due gets that fire too, once; one that left meanwhile does not", async () => {
  const ahead = new Scheduler({ clock, onFire: (b) => batches.push(b), leadMs: 250 });
  ahead.add("a", everySecond);
  ahead.start();
  await clock.advance(350); // 00:00:00.750: the fire of 00:00:01.000 is delivered to a
  expect(fired()).toEqual(["00:00:01.000 a"]);
  await clock.advance(100);
  ahead.add("b", everySecond);
  ahead.add("c", everySecond);
  ahead.add("b", everySecond); // already there: nothing more
  ahead.add("d", everySecond);
  ahead.remove("d");
  await clock.advance(0);
  expect(fired()).toEqual(["00:00:01.000 a", "00:00:01.000 b,c"]);
  await clock.advance(1000);
  ahead.stop();
  expect(fired().slice(2)).toEqual(["00:00:02.000 a,b,c"]);
});
