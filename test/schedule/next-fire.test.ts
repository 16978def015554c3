import { afterEach, describe, expect, test, vi } from "vitest";
import { nodeScheduleFires, nodeScheduleRule } from "../support/node-schedule-probe.js";
import { describeSchedule, nextFire, nextFires } from "../../runner/schedule/index.js";
import type { RecurrenceFields, Schedule } from "../../runner/types.js";

const cron = (expr: string, timezone: string | null = null): Schedule => ({ kind: "cron", cron: expr, timezone, start: null, end: null });
const rule = (fields: RecurrenceFields, timezone: string | null = null): Schedule => ({ kind: "rule", rule: fields, timezone });
const iso = (dates: Date[]) => dates.map((d) => d.toISOString());

afterEach(() => {
  vi.useRealTimers();
});

describe("fire times equal node-schedule's own", () => {
  const from = new Date("2026-03-05T10:17:33.250Z");
  test.each([
    ["*/15 * * * *", null],
    ["0 30 2 * * *", null],
    ["5-10/2 * * * * *", null],
    ["0 9 * * MON-FRI", "America/New_York"],
    ["0 0 1,15 * *", "Europe/Berlin"],
    ["30 2 * * *", "Europe/Berlin"],
    ["0 12 L * *", null],
    ["0 0 * * 5#2", "Asia/Tokyo"],
  ])("cron %s (zone %s)", (expr, tz) => {
    const ours = iso(nextFires(cron(expr, tz), from, 6));
    expect(ours).toHaveLength(6);
    expect(ours).toEqual(nodeScheduleFires(tz ? { rule: expr, tz } as unknown as string : expr, from, 6));
  });

  test.each([
    [{ hour: 0, minute: 0 }, null],
    [{ minute: { start: 0, end: 59, step: 5 } }, null],
    [{ dayOfWeek: [1, { start: 3, end: 5 }], hour: 9, minute: 30 }, "America/New_York"],
    [{ date: [1, 15], hour: 6, minute: 0, second: 30 }, "Europe/Berlin"],
    [{ month: 11, date: 25, hour: 8, minute: 0 }, null],
  ] as Array<[RecurrenceFields, string | null]>)("rule %j (zone %s)", (fields, tz) => {
    const ours = iso(nextFires(rule(fields, tz), from, 5));
    expect(ours).toHaveLength(5);
    expect(ours).toEqual(nodeScheduleFires(nodeScheduleRule(fields, tz), from, 5));
  });
});

describe("daylight saving time, process in UTC, job in a zone", () => {
  test("process runs in UTC", () => {
    expect(new Date("2026-01-01T00:00:00Z").getTimezoneOffset()).toBe(0);
  });

  test("spring forward: a 02:30 daily job fires at 03:30 on the day 02:30 does not exist", () => {
    expect(iso(nextFires(cron("30 2 * * *", "America/New_York"), new Date("2026-03-07T00:00:00Z"), 3))).toEqual([
      "2026-03-07T07:30:00.000Z", // 02:30 EST
      "2026-03-08T07:30:00.000Z", // 03:30 EDT: 02:30 was skipped by the clocks
      "2026-03-09T06:30:00.000Z", // 02:30 EDT
    ]);
    expect(iso(nextFires(cron("30 2 * * *", "Europe/Berlin"), new Date("2026-03-28T00:00:00Z"), 3))).toEqual([
      "2026-03-28T01:30:00.000Z",
      "2026-03-29T01:30:00.000Z", // 03:30 CEST
      "2026-03-30T00:30:00.000Z",
    ]);
  });

  test("fall back: a 01:30 daily job fires once on the day 01:30 happens twice", () => {
    expect(iso(nextFires(cron("30 1 * * *", "America/New_York"), new Date("2026-10-31T00:00:00Z"), 3))).toEqual([
      "2026-10-31T05:30:00.000Z",
      "2026-11-01T05:30:00.000Z", // the first 01:30 (EDT) only
      "2026-11-02T06:30:00.000Z",
    ]);
    expect(iso(nextFires(cron("30 2 * * *", "Europe/Berlin"), new Date("2026-10-24T12:00:00Z"), 3))).toEqual([
      "2026-10-25T00:30:00.000Z", // the first 02:30 (CEST) only
      "2026-10-26T01:30:00.000Z",
      "2026-10-27T01:30:00.000Z",
    ]);
  });

  test("the same holds for recurrence rules, as node-schedule computes them", () => {
    const spring = rule({ hour: 2, minute: 30 }, "America/New_York");
    const ours = iso(nextFires(spring, new Date("2026-03-07T00:00:00Z"), 3));
    expect(ours).toEqual(nodeScheduleFires(nodeScheduleRule({ hour: 2, minute: 30 }, "America/New_York"), new Date("2026-03-07T00:00:00Z"), 3));
  });
});

test("day of month and day of week both restricted: either matches (traditional cron OR)", () => {
  // "At 00:00 on the 13th, and on every Friday" — not only on Friday the 13th.
  const fires = nextFires(cron("0 0 13 * 5"), new Date("2026-02-01T00:00:00Z"), 5);
  expect(iso(fires)).toEqual(["2026-02-06T00:00:00.000Z", "2026-02-13T00:00:00.000Z", "2026-02-20T00:00:00.000Z", "2026-02-27T00:00:00.000Z", "2026-03-06T00:00:00.000Z"]);
  expect(iso(nextFires(cron("0 0 13 * 1"), new Date("2026-04-10T00:00:00Z"), 2))).toEqual(["2026-04-13T00:00:00.000Z", "2026-04-20T00:00:00.000Z"]);
});

describe("every, at, and cron windows", () => {
  test("every is aligned to the Unix epoch, so replicas agree", () => {
    expect(iso(nextFires({ kind: "every", everyMs: 90_000 }, new Date("2026-01-01T00:00:10Z"), 3))).toEqual(["2026-01-01T00:01:30.000Z", "2026-01-01T00:03:00.000Z", "2026-01-01T00:04:30.000Z"]);
    expect(nextFire({ kind: "every", everyMs: 1000 }, new Date("2026-01-01T00:00:01.000Z"))?.toISOString()).toBe("2026-01-01T00:00:02.000Z");
  });

  test("at fires once", () => {
    const at: Schedule = { kind: "at", at: new Date("2027-01-01T09:00:00Z") };
    expect(iso(nextFires(at, new Date("2026-01-01T00:00:00Z"), 3))).toEqual(["2027-01-01T09:00:00.000Z"]);
    expect(nextFire(at, new Date("2027-01-01T09:00:00Z"))).toBeNull();
  });

  test("a cron window: nothing before start, nothing after end", () => {
    const windowed: Schedule = { kind: "cron", cron: "0 0 * * *", timezone: "UTC", start: new Date("2026-05-10T12:00:00Z"), end: new Date("2026-05-13T00:00:00Z") };
    expect(iso(nextFires(windowed, new Date("2026-01-01T00:00:00Z"), 10))).toEqual(["2026-05-11T00:00:00.000Z", "2026-05-12T00:00:00.000Z", "2026-05-13T00:00:00.000Z"]);
  });
});

test("plain-English readings", () => {
  expect(
    [
      cron("*/5 * * * *"),
      cron("0 * * * * *", "Europe/Berlin"),
      rule({ hour: 0, minute: 0 }),
      rule({ dayOfWeek: [1, { start: 3, end: 5 }], hour: 9, minute: 30 }, "UTC"),
      { kind: "every", everyMs: 90_000 } as Schedule,
      { kind: "every", everyMs: 5000 } as Schedule,
      { kind: "every", everyMs: 3_600_000 } as Schedule,
      { kind: "at", at: new Date("2027-01-01T09:00:00Z") } as Schedule,
      null,
    ].map(describeSchedule),
  ).toMatchInlineSnapshot(`
    [
      "Every 5 minutes",
      "Every minute (Europe/Berlin)",
      "At 00:00 every day",
      "At 09:30 on Monday, Wednesday through Friday (UTC)",
      "Every 90 seconds",
      "Every 5 seconds",
      "Every hour",
      "Once at 2027-01-01T09:00:00.000Z",
      "Invoked manually only",
    ]
  `);
});
