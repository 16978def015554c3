import { expect, test } from "vitest";
import { describeSchedule } from "../../runner/schedule/index.js";
import type { RecurrenceFields, Schedule } from "../../runner/contracts/index.js";

const cron = (expr: string, timezone: string | null = null, start: Date | null = null, end: Date | null = null): Schedule => ({ kind: "cron", cron: expr, timezone, start, end });
const rule = (fields: RecurrenceFields, timezone: string | null = null): Schedule => ({ kind: "rule", rule: fields, timezone });

test("cron strings read as cronstrue reads them, seconds and zone included", () => {
  expect(
    [
      cron("*/5 * * * *"),
      cron("0 * * * * *", "Europe/Berlin"),
      cron("*/10 * * * * *"),
      cron("30 2 * * *", "America/New_York"),
      cron("0 9 * * MON-FRI"),
      cron("0 0 13 * 5"),
      cron("0 12 L * *"),
      cron("0 0 * * 5#2"),
      cron("0 0 * * *", "UTC", new Date("2026-05-10T00:00:00Z"), new Date("2026-05-13T00:00:00Z")),
      cron("0 0 * * *", null, null, new Date("2026-05-13T00:00:00Z")),
    ].map(describeSchedule),
  ).toMatchInlineSnapshot(`
    [
      "Every 5 minutes",
      "Every minute (Europe/Berlin)",
      "Every 10 seconds",
      "At 02:30 (America/New_York)",
      "At 09:00, Monday through Friday",
      "At 00:00, on day 13 of the month, and on Friday",
      "At 12:00, on the last day of the month",
      "At 00:00, on the second Friday of the month",
      "At 00:00 (UTC), from 2026-05-10T00:00:00.000Z to 2026-05-13T00:00:00.000Z",
      "At 00:00, until 2026-05-13T00:00:00.000Z",
    ]
  `);
});

test("rules read like the cron they equal; a date and a weekday together read as both", () => {
  expect(
    [
      rule({ hour: 0, minute: 0 }),
      rule({ minute: { start: 0, end: 59, step: 5 } }),
      rule({ second: { start: 0, end: 59, step: 15 }, minute: { start: 0, end: 59 } }),
      rule({ minute: { start: 0, end: 10, step: 5 } }),
      rule({ dayOfWeek: [1, { start: 3, end: 5 }], hour: 9, minute: 30 }, "UTC"),
      rule({ date: 13, dayOfWeek: 5, hour: 0, minute: 0 }),
      rule({ month: 11, date: 25, hour: 8, minute: 0, year: 2027 }),
      rule({ hour: [9, 12, 15, 18], minute: 0, second: 30 }, "Europe/Berlin"),
    ].map(describeSchedule),
  ).toMatchInlineSnapshot(`
    [
      "At 00:00 every day",
      "Every 5 minutes",
      "Every 15 seconds",
      "At 0 and 5 minutes past the hour",
      "At 09:30, only on Monday and Wednesday through Friday (UTC)",
      "At 00:00, on day 13 of the month, if that day is a Friday",
      "At 08:00, on day 25 of the month, only in December, only in 2027",
      "At 30 seconds past the minute, on the hour, every 3 hours, between 09:00 and 18:00 (Europe/Berlin)",
    ]
  `);
});

test("every, at and no schedule", () => {
  expect(
    [
      { kind: "every", everyMs: 30_000 } as Schedule,
      { kind: "every", everyMs: 90_000 } as Schedule,
      { kind: "every", everyMs: 60_000 } as Schedule,
      { kind: "every", everyMs: 7_200_000 } as Schedule,
      { kind: "every", everyMs: 1500 } as Schedule,
      { kind: "at", at: new Date("2026-01-01T00:00:00Z") } as Schedule,
      null,
    ].map(describeSchedule),
  ).toMatchInlineSnapshot(`
    [
      "Every 30 seconds",
      "Every 90 seconds",
      "Every minute",
      "Every 2 hours",
      "Every 1500 milliseconds",
      "Once at 2026-01-01T00:00:00.000Z",
      "Invoked manually only",
    ]
  `);
});
