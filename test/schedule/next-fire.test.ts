import { afterEach, describe, expect, test, vi } from "vitest";
import { RunletError } from "../../runner/errors.js";
import { nextFire, nextFires, scheduleKey } from "../../runner/schedule/index.js";
import type { RecurrenceFields, Schedule } from "../../runner/contracts/index.js";
import { nodeScheduleFires, nodeScheduleRule } from "../support/node-schedule-probe.js";

const cron = (expr: string, timezone: string | null = null, start: Date | null = null, end: Date | null = null): Schedule => ({ kind: "cron", cron: expr, timezone, start, end });
const rule = (fields: RecurrenceFields, timezone: string | null = null): Schedule => ({ kind: "rule", rule: fields, timezone });
const iso = (dates: Date[]) => dates.map((d) => d.toISOString());
/** The spec node-schedule's scheduleJob takes for a cron in a zone. */
const nsCron = (expr: string, tz: string | null) => (tz ? ({ rule: expr, tz } as unknown as string) : expr);

afterEach(() => {
  vi.useRealTimers();
});

test("the process runs in UTC (the zone tests below rely on it)", () => {
  expect(new Date("2026-07-01T00:00:00Z").getTimezoneOffset()).toBe(0);
});

describe("fire times equal a real node-schedule job's, fire after fire", () => {
  const from = new Date("2026-03-05T10:17:33.250Z");
  test.each([
    ["*/15 * * * *", null],
    ["0 30 2 * * *", null],
    ["5-10/2 * * * * *", null],
    ["0 9 * * MON-FRI", "America/New_York"],
    ["0 0 1,15 * *", "Europe/Berlin"],
    ["15 10 ? * *", "Asia/Kolkata"],
    ["0 12 L * *", null],
    ["0 0 L 2 *", "Europe/Berlin"],
    ["30 8 * * 5L", "America/New_York"],
    ["0 0 * * 5#2", "Asia/Tokyo"],
    ["0 0 12 * * 7", "UTC"],
    ["0 0-30/10 9-17/4 * JAN,MAR-MAY *", "Europe/Berlin"],
    // Their next fires cross a DST change (2026-03-08 in New York, 2026-03-29 in Berlin).
    ["30 2 * * *", "America/New_York"],
    ["*/20 * 2 * * *", "America/New_York"],
    ["0 0 * * * *", "Europe/Berlin"],
    ["0 0 1 * *", "Europe/Berlin"],
  ])("cron %s (zone %s)", (expr, tz) => {
    const ours = iso(nextFires(cron(expr, tz), from, 8));
    expect(ours).toHaveLength(8);
    expect(ours).toEqual(nodeScheduleFires(nsCron(expr, tz), from, 8));
  });

  test.each([
    [{ hour: 0, minute: 0 }, null],
    [{ minute: { start: 0, end: 59, step: 5 } }, null],
    [{ minute: { start: 0, end: 10, step: 5 } }, null],
    [{ dayOfWeek: [1, { start: 3, end: 5 }], hour: 9, minute: 30 }, "America/New_York"],
    [{ date: [1, 15], hour: 6, minute: 0, second: 30 }, "Europe/Berlin"],
    [{ month: 11, date: 25, hour: 8, minute: 0 }, null],
    [{ date: 13, dayOfWeek: 5, hour: 0, minute: 0 }, null],
    [{ hour: 2, minute: 30 }, "America/New_York"],
  ] as Array<[RecurrenceFields, string | null]>)("rule %j (zone %s)", (fields, tz) => {
    const ours = iso(nextFires(rule(fields, tz), from, 5));
    expect(ours).toHaveLength(5);
    expect(ours).toEqual(nodeScheduleFires(nodeScheduleRule(fields, tz), from, 5));
  });

  test("a cron window: the first fire comes after start (not at it), the last may be at end", () => {
    const start = new Date("2026-05-10T00:00:00Z");
    const end = new Date("2026-05-13T00:00:00Z");
    const windowed = cron("0 0 * * *", "UTC", start, end);
    expect(iso(nextFires(windowed, from, 10))).toEqual(["2026-05-11T00:00:00.000Z", "2026-05-12T00:00:00.000Z", "2026-05-13T00:00:00.000Z"]);
    expect(iso(nextFires(windowed, from, 10))).toEqual(nodeScheduleFires({ start, end, rule: "0 0 * * *", tz: "UTC" } as unknown as string, from, 10));
    expect(nextFire(windowed, end)).toBeNull();
  });
});

describe("daylight saving time, the process in UTC and the job in a zone", () => {
  test("cron: a 02:30 job fires at 03:30 on spring-forward day, when 02:30 does not exist", () => {
    const ny = cron("30 2 * * *", "America/New_York");
    expect(iso(nextFires(ny, new Date("2026-03-07T00:00:00Z"), 3))).toEqual([
      "2026-03-07T07:30:00.000Z", // 02:30 EST
      "2026-03-08T07:30:00.000Z", // 03:30 EDT
      "2026-03-09T06:30:00.000Z", // 02:30 EDT
    ]);
    const berlin = cron("30 2 * * *", "Europe/Berlin");
    expect(iso(nextFires(berlin, new Date("2026-03-28T00:00:00Z"), 3))).toEqual([
      "2026-03-28T01:30:00.000Z", // 02:30 CET
      "2026-03-29T01:30:00.000Z", // 03:30 CEST
      "2026-03-30T00:30:00.000Z", // 02:30 CEST
    ]);
    expect(iso(nextFires(ny, new Date("2026-03-07T00:00:00Z"), 3))).toEqual(nodeScheduleFires(nsCron("30 2 * * *", "America/New_York"), new Date("2026-03-07T00:00:00Z"), 3));
    expect(iso(nextFires(berlin, new Date("2026-03-28T00:00:00Z"), 3))).toEqual(nodeScheduleFires(nsCron("30 2 * * *", "Europe/Berlin"), new Date("2026-03-28T00:00:00Z"), 3));
  });

  test("cron: a job in the hour that repeats on fall-back day fires once, at its first occurrence", () => {
    const ny = cron("30 1 * * *", "America/New_York");
    expect(iso(nextFires(ny, new Date("2026-10-31T00:00:00Z"), 3))).toEqual([
      "2026-10-31T05:30:00.000Z", // 01:30 EDT
      "2026-11-01T05:30:00.000Z", // 01:30 EDT; not again at 01:30 EST
      "2026-11-02T06:30:00.000Z", // 01:30 EST
    ]);
    // Berlin repeats 02:00-02:59 (01:30 happens once there).
    const berlin = cron("30 2 * * *", "Europe/Berlin");
    expect(iso(nextFires(berlin, new Date("2026-10-24T12:00:00Z"), 3))).toEqual(["2026-10-25T00:30:00.000Z", "2026-10-26T01:30:00.000Z", "2026-10-27T01:30:00.000Z"]);
    expect(iso(nextFires(cron("30 1 * * *", "Europe/Berlin"), new Date("2026-10-24T12:00:00Z"), 2))).toEqual(["2026-10-24T23:30:00.000Z", "2026-10-26T00:30:00.000Z"]);
    expect(iso(nextFires(ny, new Date("2026-10-31T00:00:00Z"), 3))).toEqual(nodeScheduleFires(nsCron("30 1 * * *", "America/New_York"), new Date("2026-10-31T00:00:00Z"), 3));
    expect(iso(nextFires(berlin, new Date("2026-10-24T12:00:00Z"), 3))).toEqual(nodeScheduleFires(nsCron("30 2 * * *", "Europe/Berlin"), new Date("2026-10-24T12:00:00Z"), 3));
  });

  test("cron: with hours unrestricted, the repeated hour fires twice", () => {
    const fires = iso(nextFires(cron("30 * * * *", "America/New_York"), new Date("2026-11-01T04:00:00Z"), 3));
    expect(fires).toEqual(["2026-11-01T04:30:00.000Z", "2026-11-01T05:30:00.000Z", "2026-11-01T06:30:00.000Z"]); // 00:30, 01:30 EDT, 01:30 EST
    expect(fires).toEqual(nodeScheduleFires(nsCron("30 * * * *", "America/New_York"), new Date("2026-11-01T04:00:00Z"), 3));
  });

  test("a seconds cron in the skipped hour fires through the hour after the gap, as node-schedule's iterator does, and asked afresh too", () => {
    const from = new Date("2026-03-08T06:00:00Z");
    const fires = iso(nextFires(cron("*/10 30 2 * * *", "America/New_York"), from, 7));
    expect(fires).toEqual(["2026-03-08T07:30:00.000Z", "2026-03-08T07:30:10.000Z", "2026-03-08T07:30:20.000Z", "2026-03-08T07:30:30.000Z", "2026-03-08T07:30:40.000Z", "2026-03-08T07:30:50.000Z", "2026-03-09T06:30:00.000Z"]);
    expect(fires).toEqual(nodeScheduleFires(nsCron("*/10 30 2 * * *", "America/New_York"), from, 7));
    expect(nextFire(cron("*/10 30 2 * * *", "America/New_York"), new Date("2026-03-08T07:30:10Z"))?.toISOString()).toBe("2026-03-08T07:30:20.000Z");
  });

  test("rule: node-schedule's RecurrenceRule skips a 02:30 job on spring-forward day and runs a 01:30 job twice on fall-back day", () => {
    const spring = rule({ hour: 2, minute: 30 }, "America/New_York");
    expect(iso(nextFires(spring, new Date("2026-03-07T00:00:00Z"), 3))).toEqual(["2026-03-07T07:30:00.000Z", "2026-03-09T06:30:00.000Z", "2026-03-10T06:30:00.000Z"]);
    const fall = rule({ hour: 1, minute: 30 }, "America/New_York");
    expect(iso(nextFires(fall, new Date("2026-10-31T00:00:00Z"), 3))).toEqual(["2026-10-31T05:30:00.000Z", "2026-11-01T05:30:00.000Z", "2026-11-01T06:30:00.000Z"]);
    const berlin = rule({ hour: 2, minute: 30 }, "Europe/Berlin");
    expect(iso(nextFires(berlin, new Date("2026-03-28T00:00:00Z"), 2))).toEqual(["2026-03-28T01:30:00.000Z", "2026-03-30T00:30:00.000Z"]);
    expect(iso(nextFires(berlin, new Date("2026-10-24T00:00:00Z"), 3))).toEqual(["2026-10-24T00:30:00.000Z", "2026-10-25T00:30:00.000Z", "2026-10-25T01:30:00.000Z"]);
    expect(iso(nextFires(fall, new Date("2026-10-31T00:00:00Z"), 3))).toEqual(nodeScheduleFires(nodeScheduleRule({ hour: 1, minute: 30 }, "America/New_York"), new Date("2026-10-31T00:00:00Z"), 3));
  });
});

test("day of month and day of week both restricted: cron fires on either (traditional OR), a rule on both", () => {
  // "At 00:00 on the 13th, and on every Friday", not only on Friday the 13th.
  expect(iso(nextFires(cron("0 0 13 * 5"), new Date("2026-02-01T00:00:00Z"), 5))).toEqual(["2026-02-06T00:00:00.000Z", "2026-02-13T00:00:00.000Z", "2026-02-20T00:00:00.000Z", "2026-02-27T00:00:00.000Z", "2026-03-06T00:00:00.000Z"]);
  expect(iso(nextFires(cron("0 0 13 * 1"), new Date("2026-04-10T00:00:00Z"), 2))).toEqual(["2026-04-13T00:00:00.000Z", "2026-04-20T00:00:00.000Z"]);
  expect(iso(nextFires(rule({ date: 13, dayOfWeek: 5, hour: 0, minute: 0 }), new Date("2026-01-01T00:00:00Z"), 3))).toEqual(["2026-02-13T00:00:00.000Z", "2026-03-13T00:00:00.000Z", "2026-11-13T00:00:00.000Z"]);
});

describe("every, at, and the edges of a fire", () => {
  test("every is aligned to the Unix epoch, so replicas agree whenever they start", () => {
    expect(iso(nextFires({ kind: "every", everyMs: 90_000 }, new Date("2026-01-01T00:00:10Z"), 3))).toEqual(["2026-01-01T00:01:30.000Z", "2026-01-01T00:03:00.000Z", "2026-01-01T00:04:30.000Z"]);
    expect(nextFire({ kind: "every", everyMs: 7000 }, new Date(1_000_003))?.getTime()).toBe(1_001_000);
    expect(nextFire({ kind: "every", everyMs: 1000 }, new Date("2026-01-01T00:00:01.000Z"))?.toISOString()).toBe("2026-01-01T00:00:02.000Z");
  });

  test("at fires once, strictly after the time asked from", () => {
    const at: Schedule = { kind: "at", at: new Date("2027-01-01T09:00:00Z") };
    expect(iso(nextFires(at, new Date("2026-01-01T00:00:00Z"), 3))).toEqual(["2027-01-01T09:00:00.000Z"]);
    expect(nextFire(at, new Date("2027-01-01T09:00:00Z"))).toBeNull();
  });

  test("a fire is strictly after the time asked from, milliseconds included", () => {
    expect(nextFire(cron("* * * * * *"), new Date("2026-01-01T00:00:00.000Z"))?.toISOString()).toBe("2026-01-01T00:00:01.000Z");
    expect(nextFire(cron("* * * * * *"), new Date("2026-01-01T00:00:00.999Z"))?.toISOString()).toBe("2026-01-01T00:00:01.000Z");
    expect(nextFire(rule({ second: { start: 0, end: 59 } }), new Date("2026-01-01T00:00:00.500Z"))?.toISOString()).toBe("2026-01-01T00:00:01.000Z");
  });

  test("a cron that can never fire has no next fire, as node-schedule schedules nothing for it", () => {
    expect(nextFire(cron("0 0 31 4,6 *"), new Date("2026-01-01T00:00:00Z"))).toBeNull();
  });

  test("what runlet does not read is refused, never guessed at: W (nearest weekday), a bare L as weekday", () => {
    expect(() => nextFire(cron("0 0 15W * *"), new Date("2026-01-01T00:00:00Z"))).toThrow(RunletError);
    expect(() => nextFire(cron("0 0 15W * *"), new Date("2026-01-01T00:00:00Z"))).toThrow(expect.objectContaining({ code: "BAD_INPUT" }));
    expect(() => nextFire(cron("0 0 * * L"), new Date("2026-01-01T00:00:00Z"))).toThrow(expect.objectContaining({ code: "BAD_INPUT" }));
  });
});

test("scheduleKey: equal schedules share a key; zone, window or spec set them apart", () => {
  expect(scheduleKey(cron("0  9 * * *"))).toBe(scheduleKey(cron(" 0 9 * * * ")));
  expect(scheduleKey(rule({ hour: 9, minute: 0 }))).toBe(scheduleKey(rule({ minute: 0, hour: 9 })));
  expect(scheduleKey(rule({ minute: { start: 0, end: 30 } }))).toBe(scheduleKey(rule({ minute: { start: 0, end: 30, step: 1 } })));
  const keys = [
    cron("0 9 * * *"),
    cron("0 9 * * *", "UTC"),
    cron("0 9 * * *", "Europe/Berlin"),
    cron("0 9 * * *", null, new Date("2026-01-01T00:00:00Z")),
    cron("0 9 * * *", null, null, new Date("2026-01-01T00:00:00Z")),
    rule({ hour: 9, minute: 0 }),
    rule({ hour: 9, minute: 0 }, "UTC"),
    { kind: "every", everyMs: 1000 } as Schedule,
    { kind: "at", at: new Date(1000) } as Schedule,
  ].map(scheduleKey);
  expect(new Set(keys).size).toBe(keys.length);
});
