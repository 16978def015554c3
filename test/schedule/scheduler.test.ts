import { beforeEach, expect, test } from "vitest";
import { Scheduler, type FireBatch } from "../../runner/schedule/index.js";
import type { Schedule } from "../../runner/types.js";
import { FakeClock } from "../support/fake-clock.js";

const everySecond: Schedule = { kind: "cron", cron: "* * * * * *", timezone: null, start: null, end: null };
const everyFive: Schedule = { kind: "every", everyMs: 5000 };

let clock: FakeClock;
let batches: FireBatch[];
let scheduler: Scheduler;
const fired = () => batches.map((b) => `${b.fireDate.toISOString().slice(11, 23)} ${b.jobs.join(",")}${b.skippedSlots ? ` (+${b.skippedSlots} skipped)` : ""}`);

beforeEach(() => {
  clock = new FakeClock(Date.UTC(2026, 0, 1, 0, 0, 0, 400));
  batches = [];
  scheduler = new Scheduler({ clock, onFire: (b) => batches.push(b), maxCatchUpSlots: 3 });
});

test("jobs sharing a schedule fire in one batch, at the exact scheduled time", async () => {
  scheduler.add("a", everySecond);
  scheduler.add("b", { ...everySecond });
  scheduler.add("c", everyFive);
  scheduler.start();
  expect(clock.pendingDelays()).toEqual([600]);
  await clock.advance(5000);
  expect(fired().sort()).toEqual(["00:00:01.000 a,b", "00:00:02.000 a,b", "00:00:03.000 a,b", "00:00:04.000 a,b", "00:00:05.000 a,b", "00:00:05.000 c"]);
  expect(scheduler.nextFireOf("c")?.toISOString()).toBe("2026-01-01T00:00:10.000Z");
});

test("a job name is never scheduled twice; re-adding replaces its schedule", async () => {
  scheduler.add("a", everySecond);
  scheduler.add("a", everyFive);
  scheduler.add("a", everyFive);
  expect(scheduler.size).toBe(1);
  scheduler.start();
  await clock.advance(5000);
  expect(fired()).toEqual(["00:00:05.000 a"]);
});

test("removed jobs stop firing; a group left empty is dropped", async () => {
  scheduler.add("a", everySecond);
  scheduler.add("b", everySecond);
  scheduler.start();
  await clock.advance(1000);
  scheduler.remove("a");
  await clock.advance(1000);
  scheduler.remove("b");
  await clock.advance(3000);
  expect(fired()).toEqual(["00:00:01.000 a,b", "00:00:02.000 b"]);
  expect(clock.pendingDelays()).toEqual([]);
});

test("adding a job to a group does not move the group's next fire", async () => {
  scheduler.add("a", everyFive);
  scheduler.start();
  await clock.advance(3000);
  scheduler.add("b", everyFive);
  await clock.advance(2000);
  expect(fired()).toEqual(["00:00:05.000 a,b"]);
});

test("after a stall each missed slot is reported in order with its own time, capped", async () => {
  scheduler.add("a", everySecond);
  scheduler.start();
  // The event loop was blocked for 6.5 s: the timer wakes once, late.
  clock.stall(6500);
  await clock.advance(0);
  expect(fired()).toEqual(["00:00:04.000 a (+3 skipped)", "00:00:05.000 a", "00:00:06.000 a"]);
  expect(scheduler.nextFireOf("a")?.toISOString()).toBe("2026-01-01T00:00:07.000Z");
});

test("never waits more than 30 s before reading the clock again", async () => {
  scheduler.add("daily", { kind: "cron", cron: "0 0 * * *", timezone: "UTC", start: null, end: null });
  scheduler.start();
  expect(clock.pendingDelays()).toEqual([30_000]);
  await clock.advance(30_000);
  expect(clock.pendingDelays()).toEqual([30_000]);
  expect(batches).toEqual([]);
});

test("stop() stops firing; start() resumes from now without replaying", async () => {
  scheduler.add("a", everySecond);
  scheduler.start();
  await clock.advance(1000);
  scheduler.stop();
  await clock.advance(5000);
  expect(fired()).toEqual(["00:00:01.000 a"]);
  scheduler.start();
  await clock.advance(1000);
  expect(fired()).toEqual(["00:00:01.000 a", "00:00:07.000 a"]);
});

test("a callback that throws does not stop the timer; callbacks may add and remove jobs", async () => {
  const errors: unknown[] = [];
  scheduler = new Scheduler({
    clock,
    onError: (e) => errors.push(e),
    onFire: (b) => {
      batches.push(b);
      if (batches.length === 1) {
        scheduler.remove("a");
        scheduler.add("b", everySecond);
        throw new Error("dispatch bug");
      }
    },
  });
  scheduler.add("a", everySecond);
  scheduler.start();
  await clock.advance(2000);
  expect(fired()).toEqual(["00:00:01.000 a", "00:00:02.000 b"]);
  expect(errors).toHaveLength(1);
});

test("a one-off schedule fires once and leaves nothing armed", async () => {
  scheduler.add("once", { kind: "at", at: new Date(Date.UTC(2026, 0, 1, 0, 0, 2)) });
  scheduler.add("past", { kind: "at", at: new Date(Date.UTC(2025, 0, 1)) });
  scheduler.start();
  await clock.advance(10_000);
  expect(fired()).toEqual(["00:00:02.000 once"]);
  expect(scheduler.nextFireOf("once")).toBeNull();
  expect(scheduler.nextFireOf("past")).toBeNull();
});
