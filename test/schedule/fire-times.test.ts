import { expect, test } from "vitest";
import type { RecurrenceFields, Schedule } from "../../runner/contracts/index.js";
import { describeSchedule, nextFire, nextFires, Scheduler, type FireBatch } from "../../runner/schedule/index.js";
import { FakeClock } from "../support/fake-clock.js";

const cron = (expr: string, timezone: string | null = null): Schedule => ({ kind: "cron", cron: expr, timezone, start: null, end: null });
const rule = (fields: RecurrenceFields, timezone: string | null = null): Schedule => ({ kind: "rule", rule: fields, timezone });
const fires = (spec: Schedule, from: string, count: number) => nextFires(spec, new Date(from), count).map((d) => d.toISOString().replace(":00.000Z", "Z"));

test("a fire is a pure function of (schedule, after): a listing between two fires changes nothing", () => {
  // Dublin springs forward at 01:00 UTC on 2025-03-30: 01:00 and 01:30 do not exist that day.
  const spec = cron("0,30 1 * * *", "Europe/Dublin");
  const after = new Date("2025-03-30T01:00:00Z");
  expect(nextFire(spec, after)?.toISOString()).toBe("2025-03-30T01:30:00.000Z");
  nextFires(spec, new Date("2025-03-29T18:00:00Z"), 5);
  expect(nextFire(spec, after)?.toISOString()).toBe("2025-03-30T01:30:00.000Z");
  expect(fires(spec, "2025-03-29T01:30:00Z", 4)).toEqual(["2025-03-30T01:00Z", "2025-03-30T01:30Z", "2025-03-31T00:00Z", "2025-03-31T00:30Z"]);
});

test("a running Scheduler keeps its fires while the same schedule is listed in between (fake clock)", async () => {
  const spec = cron("0,30 1 * * *", "Europe/Dublin");
  const clock = new FakeClock(Date.parse("2025-03-29T01:30:00Z"));
  const batches: FireBatch[] = [];
  const scheduler = new Scheduler({ clock, onFire: (b) => batches.push(b) });
  scheduler.add("report", spec);
  scheduler.start();
  try {
    // The evening before, `runlet list` and /api/jobs ask about the very same schedule object.
    await clock.advance(Date.parse("2025-03-29T18:00:00Z") - clock.now());
    const listed = nextFires(spec, new Date(clock.now()), 5).map((d) => d.toISOString());
    await clock.advance(Date.parse("2025-03-30T01:00:00Z") - clock.now());
    nextFires(spec, new Date(clock.now() - 3_600_000), 3); // and again, right after a fire
    await clock.advance(Date.parse("2025-03-31T01:00:00Z") - clock.now());
    expect(batches.map((b) => b.fireDate.toISOString())).toEqual(listed.slice(0, 4));
    expect(listed.slice(0, 4)).toEqual(["2025-03-30T01:00:00.000Z", "2025-03-30T01:30:00.000Z", "2025-03-31T00:00:00.000Z", "2025-03-31T00:30:00.000Z"]);
  } finally {
    scheduler.stop();
  }
});

test.each([
  // [cron, from, fires, what cronstrue says]
  ["0 9 1 * 5#2", "2026-01-01T00:00:00Z", ["2026-01-01T09:00Z", "2026-01-09T09:00Z", "2026-02-01T09:00Z", "2026-02-13T09:00Z"], "on day 1 of the month, on the second Friday of the month"],
  // April has 30 days: cron-parser took 1-30 for "*" there and fired on Mondays only.
  ["0 9 1-30 * 1", "2026-04-01T00:00:00Z", ["2026-04-01T09:00Z", "2026-04-02T09:00Z", "2026-04-03T09:00Z"], "between day 1 and 30 of the month, and on Monday"],
  // January has 31: the 31st is a Saturday, not a Monday.
  ["0 9 1-30 * 1", "2026-01-29T00:00:00Z", ["2026-01-29T09:00Z", "2026-01-30T09:00Z", "2026-02-01T09:00Z"], "between day 1 and 30 of the month, and on Monday"],
  ["0 0 19 * 1-7", "2026-01-01T00:00:00Z", ["2026-01-02T00:00Z", "2026-01-03T00:00Z", "2026-01-04T00:00Z"], "on day 19 of the month, Monday through Sunday"],
  ["0 0 19 * 0-7", "2026-01-01T00:00:00Z", ["2026-01-02T00:00Z", "2026-01-03T00:00Z", "2026-01-04T00:00Z"], "on day 19 of the month, Sunday through Sunday"],
  ["0 0 * * 6-7/6", "2026-01-01T00:00:00Z", ["2026-01-03T00:00Z", "2026-01-10T00:00Z", "2026-01-17T00:00Z"], "every 6 days of the week, Saturday through Sunday"],
  ["0 0 1 * 6/4", "2026-01-01T00:00:00Z", ["2026-01-03T00:00Z", "2026-01-10T00:00Z", "2026-01-17T00:00Z"], "on day 1 of the month, every 4 days of the week, Saturday through Saturday"],
  ["0 9 1-15,10-25 * 1", "2026-01-25T00:00:00Z", ["2026-01-25T09:00Z", "2026-01-26T09:00Z", "2026-02-01T09:00Z"], "on day 1 through 15 and 10 through 25 of the month, and on Monday"],
  ["0 9 */1,12 * 1", "2026-01-01T00:00:00Z", ["2026-01-01T09:00Z", "2026-01-02T09:00Z", "2026-01-03T09:00Z"], "every day and on day 12 of the month, and on Monday"],
])("cron %s fires on the days cronstrue names, not cron-parser's", (expr, from, expected, human) => {
  expect(fires(cron(expr), from, expected.length)).toEqual(expected);
  expect(describeSchedule(cron(expr))).toContain(human);
});

test("Chatham (changes at 02:45 and 03:45 local): a time that exists on the change day fires then; the 30th is not skipped", () => {
  // 2026-09-27: 02:45 +12:45 becomes 03:45 +13:45, at 14:00 UTC the day before.
  expect(fires(cron("45 3 * * *", "Pacific/Chatham"), "2026-09-25T00:00:00Z", 3)).toEqual(["2026-09-25T15:00Z", "2026-09-26T14:00Z", "2026-09-27T14:00Z"]);
  // 2029-09-30 is a change day too: 03:59 exists.
  expect(fires(cron("59 3 30 * *", "Pacific/Chatham"), "2029-09-01T00:00:00Z", 2)).toEqual(["2029-09-29T14:14Z", "2029-10-29T14:14Z"]);
});

test.each([
  // [zone, cron, from, fires]: the repeated wall time fires once, as in New York.
  ["America/New_York", "30 1 * * *", "2026-10-31T00:00:00Z", ["2026-10-31T05:30Z", "2026-11-01T05:30Z", "2026-11-02T06:30Z"]],
  ["Pacific/Chatham", "0 3 * * *", "2026-04-03T12:00:00Z", ["2026-04-03T13:15Z", "2026-04-04T13:15Z", "2026-04-05T14:15Z"]], // 03:45 -> 02:45
  ["Australia/Lord_Howe", "45 1 * * *", "2026-04-03T12:00:00Z", ["2026-04-03T14:45Z", "2026-04-04T14:45Z", "2026-04-05T15:15Z"]], // 02:00 -> 01:30
  ["Antarctica/Troll", "30 2 * * *", "2026-10-24T00:00:00Z", ["2026-10-24T00:30Z", "2026-10-25T00:30Z", "2026-10-26T02:30Z"]], // 03:00 -> 01:00
])("%s: a daily %s fires once on fall-back day", (zone, expr, from, expected) => {
  expect(fires(cron(expr, zone), from, 3)).toEqual(expected);
});

test.each([
  // [zone, cron, from, fires]: a wall time in a gap fires at the instant it has at the offset before it.
  ["America/New_York", "30 2 * * *", "2026-03-07T00:00:00Z", ["2026-03-07T07:30Z", "2026-03-08T07:30Z", "2026-03-09T06:30Z"]], // 02:30 -> 03:30
  ["Australia/Lord_Howe", "15 2 * * *", "2026-10-02T12:00:00Z", ["2026-10-02T15:45Z", "2026-10-03T15:45Z", "2026-10-04T15:15Z"]], // 02:15 -> 02:45
  ["Antarctica/Troll", "30 1 * * *", "2026-03-28T00:00:00Z", ["2026-03-28T01:30Z", "2026-03-29T01:30Z", "2026-03-29T23:30Z"]], // 01:30 -> 03:30
  ["America/Havana", "0 0 * * *", "2026-03-07T00:00:00Z", ["2026-03-07T05:00Z", "2026-03-08T05:00Z", "2026-03-09T04:00Z"]], // midnight -> 01:00
])("%s: %s in a gap fires right after it, never on another day", (zone, expr, from, expected) => {
  expect(fires(cron(expr, zone), from, 3)).toEqual(expected);
});

test("an hourly cron goes on hourly through a repeated hour, in Troll's two-hour one too", () => {
  expect(fires(cron("30 * * * *", "Antarctica/Troll"), "2026-10-24T23:00:00Z", 5)).toEqual(["2026-10-24T23:30Z", "2026-10-25T00:30Z", "2026-10-25T01:30Z", "2026-10-25T02:30Z", "2026-10-25T03:30Z"]);
});

test("a rule fires at each instant its wall time happens: twice in Chatham's repeated hour", () => {
  expect(fires(rule({ hour: 3, minute: 0 }, "Pacific/Chatham"), "2026-04-03T12:00:00Z", 3)).toEqual(["2026-04-03T13:15Z", "2026-04-04T13:15Z", "2026-04-04T14:15Z"]);
});

test("a rule range { start: 0, end: 0 } is 0, as written (node-schedule's Range made it every hour)", () => {
  const midnight = rule({ hour: { start: 0, end: 0 }, minute: 0 });
  expect(fires(midnight, "2026-01-01T00:00:00Z", 3)).toEqual(["2026-01-02T00:00Z", "2026-01-03T00:00Z", "2026-01-04T00:00Z"]);
  expect(describeSchedule(midnight)).toBe("At 00:00 every day");
});

test("schedules that never fire answer at once, with no fire: nothing walks forever", () => {
  const never: Schedule[] = [
    rule({ minute: { start: 5, end: 5, step: 2 } }),
    rule({ month: [3, 5], date: 31 }),
    rule({ year: 2020 }),
    cron("0 0 30 2 *", "Pacific/Chatham"),
    { kind: "cron", cron: "0 0 * * *", timezone: null, start: new Date("2026-01-01T00:00:30Z"), end: new Date("2026-01-01T23:00:00Z") },
  ];
  for (const spec of never) {
    expect(nextFire(spec, new Date("2026-01-01T00:00:00Z"))).toBeNull();
    expect(nextFires(spec, new Date("2026-01-01T00:00:00Z"), 3)).toEqual([]);
  }
  // A cron that fires only on February 29 is found across the century's skipped leap day.
  expect(fires(cron("0 0 29 2 *"), "2097-01-01T00:00:00Z", 1)).toEqual(["2104-02-29T00:00Z"]);
});
