import { describe, expect, test } from "vitest";
import { OwnedSchedules } from "../../runner/core/owned-schedules.js";
import { takeoverFires } from "../../runner/core/takeover-fires.js";
import { Scheduler, type FireBatch } from "../../runner/schedule/index.js";
import type { Schedule } from "../../runner/contracts/index.js";
import { FakeClock } from "../support/fake-clock.js";
import { jobDef } from "../support/job-def.js";

const EVERY_S: Schedule = { kind: "every", everyMs: 1000 };
const T0 = Date.UTC(2026, 0, 1);

describe("OwnedSchedules: only owned jobs are armed", () => {
  function setup(owned: Set<string>) {
    const clock = new FakeClock(T0);
    const fired: string[] = [];
    const timers = new Scheduler({ clock, onFire: (batch: FireBatch) => fired.push(...batch.jobs.map((j) => `${j}@${batch.fireDate.getTime() - T0}`)) });
    const schedules = new OwnedSchedules(timers, clock, (job) => owned.has(job));
    return { clock, fired, schedules };
  }

  test("a cold job is known (size, next fire) but not armed, and never fires here", async () => {
    const { clock, fired, schedules } = setup(new Set(["a"]));
    schedules.add("a", EVERY_S);
    schedules.add("b", EVERY_S);
    schedules.start();
    expect([schedules.size, schedules.armed]).toEqual([2, 1]);
    expect(schedules.nextFireOf("b")!.getTime()).toBe(T0 + 1000);
    await clock.advance(2000);
    expect(fired).toEqual(["a@1000", "a@2000"]);
  });

  test("rearm arms what is owned now, colds the rest, and returns the jobs it armed", async () => {
    const owned = new Set(["a"]);
    const { clock, fired, schedules } = setup(owned);
    schedules.add("a", EVERY_S);
    schedules.add("b", EVERY_S);
    schedules.start();
    await clock.advance(1000);
    owned.delete("a");
    owned.add("b");
    expect(schedules.rearm()).toEqual(["b"]);
    expect(schedules.armed).toBe(1);
    await clock.advance(1000);
    expect(fired).toEqual(["a@1000", "b@2000"]);
    expect(schedules.rearm()).toEqual([]);
    schedules.remove("b");
    expect([schedules.size, schedules.armed]).toEqual([1, 0]);
  });
});

describe("takeoverFires: a gone owner's fires, under the job's rules", () => {
  const at = (...s: number[]) => s.map((x) => new Date(T0 + x * 1000));

  test("catchUp none: every fire since, as scheduled fires (the claim records those past lateness as skipped, late)", () => {
    const fires = takeoverFires(jobDef("j", { schedule: EVERY_S }), T0 + 500, T0 + 3000);
    expect(fires).toEqual(at(1, 2, 3).map((fireDate) => ({ fireDate, trigger: "schedule" })));
  });

  test("catchUp latest: only the newest as a caught-up fire; all: each", () => {
    const latest = takeoverFires(jobDef("j", { schedule: EVERY_S, catchUp: "latest" }), T0, T0 + 3000);
    expect(latest.map((f) => f.trigger)).toEqual(["schedule", "schedule", "catch-up"]);
    const all = takeoverFires(jobDef("j", { schedule: EVERY_S, catchUp: "all" }), T0, T0 + 3000);
    expect(all.map((f) => f.trigger)).toEqual(["catch-up", "catch-up", "catch-up"]);
  });

  test("at most the newest 100; nothing for a disabled or unscheduled job, or an empty span", () => {
    const many = takeoverFires(jobDef("j", { schedule: EVERY_S }), T0, T0 + 500_000);
    expect(many).toHaveLength(100);
    expect(many.at(-1)!.fireDate.getTime()).toBe(T0 + 500_000);
    expect(takeoverFires(jobDef("j", { schedule: EVERY_S, enabled: false }), T0, T0 + 3000)).toEqual([]);
    expect(takeoverFires(jobDef("j"), T0, T0 + 3000)).toEqual([]);
    expect(takeoverFires(jobDef("j", { schedule: EVERY_S }), T0 + 3000, T0 + 3000)).toEqual([]);
  });

  test("fires due while this replica could not claim are left out, before the newest is chosen for catchUp latest", () => {
    const skipped = (at: number) => at === T0 + 3000;
    const latest = takeoverFires(jobDef("j", { schedule: EVERY_S, catchUp: "latest" }), T0, T0 + 3000, skipped);
    expect(latest).toEqual([{ fireDate: at(1)[0], trigger: "schedule" }, { fireDate: at(2)[0], trigger: "catch-up" }]);
  });
});
