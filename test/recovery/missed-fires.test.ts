import { expect, test, vi } from "vitest";
import { missedFires } from "../../runner/recovery/missed-fires.js";
import { jobDef } from "../support/job-def.js";

// Count the fire-time steps the catch-up walk takes: the work, not the wall clock.
const steps = vi.hoisted(() => ({ count: 0 }));
vi.mock("../../runner/schedule/index.js", async (importOriginal) => {
  const real = await importOriginal<typeof import("../../runner/schedule/index.js")>();
  return { ...real, nextFire: (...args: Parameters<typeof real.nextFire>) => (steps.count++, real.nextFire(...args)) };
});

test("a job down for a month with a starting deadline walks only the fires inside the deadline", () => {
  const job = jobDef("tick", { schedule: { kind: "every", everyMs: 1000 }, catchUp: "all", startingDeadlineMs: 60_000 });
  const now = new Date("2030-02-01T00:00:00.000Z");
  const lastFireAt = new Date("2030-01-01T00:00:00.000Z");
  steps.count = 0;
  const { fires, dropped } = missedFires(job, lastFireAt, now);
  expect(fires.length).toBe(61);
  expect(fires[0]!.toISOString()).toBe("2030-01-31T23:59:00.000Z");
  expect(fires.at(-1)!.toISOString()).toBe(now.toISOString());
  expect(dropped).toBe(0);
  // A month of seconds is 2,678,400 steps; the deadline leaves 61 fires and one step past them.
  expect(steps.count).toBeLessThanOrEqual(62);
});

test("a last fire inside the deadline is walked from, not from the deadline", () => {
  const job = jobDef("tick", { schedule: { kind: "every", everyMs: 1000 }, catchUp: "latest", startingDeadlineMs: 60_000 });
  const now = new Date("2030-02-01T00:00:00.000Z");
  const { fires, dropped } = missedFires(job, new Date("2030-01-31T23:59:50.000Z"), now);
  expect(fires.map((f) => f.toISOString())).toEqual([now.toISOString()]);
  expect(dropped).toBe(9);
});
