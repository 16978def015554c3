import { expect, test } from "vitest";
import { offsetAt, offsetSpan } from "../../runner/fire-times/zone-offset.js";

const HOUR = 3_600_000;
const at = (iso: string) => Date.parse(iso);

test("a zone's offset holds until its next DST change, found to the millisecond", () => {
  expect(offsetSpan("America/New_York", at("2026-01-15T00:00:00Z"))).toEqual({ offset: -5 * HOUR, until: at("2026-03-08T07:00:00Z"), changes: true, since: expect.anything() });
  expect(offsetSpan("America/New_York", at("2026-03-08T07:00:00Z"))).toEqual({ offset: -4 * HOUR, until: at("2026-11-01T06:00:00Z"), changes: true, since: expect.anything() });
  expect(offsetSpan("Europe/Berlin", at("2026-03-29T00:59:59.999Z"))).toEqual({ offset: HOUR, until: at("2026-03-29T01:00:00Z"), changes: true, since: expect.anything() });
  expect(offsetSpan("Europe/Berlin", at("2026-10-25T00:00:00Z"))).toEqual({ offset: 2 * HOUR, until: at("2026-10-25T01:00:00Z"), changes: true, since: expect.anything() });
  // Lord Howe moves its clocks by 30 minutes.
  expect(offsetSpan("Australia/Lord_Howe", at("2026-03-01T00:00:00Z")).offset).toBe(11 * HOUR);
  expect(offsetAt("Australia/Lord_Howe", at("2026-07-01T00:00:00Z"))).toBe(10.5 * HOUR);
});

test("a change across a year end is found from the year before", () => {
  // New York's next change after December is in March of the next year.
  expect(offsetSpan("America/New_York", at("2026-12-31T23:00:00Z")).until).toBe(at("2027-03-14T07:00:00Z"));
});

test("a zone without DST reports no change, only how far it looked", () => {
  expect(offsetSpan("UTC", at("2026-06-01T00:00:00Z"))).toEqual({ offset: 0, until: at("2029-01-01T00:00:00Z"), changes: false, since: null });
  expect(offsetSpan("Asia/Kolkata", at("2026-06-01T00:00:00Z"))).toMatchObject({ offset: 5.5 * HOUR, changes: false });
  // The process zone (UTC in tests) goes through Date.
  expect(offsetSpan(null, at("2026-06-01T00:00:00Z"))).toMatchObject({ offset: 0, changes: false });
});

test("a span knows the change that began it and the offset before, for the gap or overlap it may still be in", () => {
  expect(offsetSpan("America/New_York", at("2026-03-08T07:30:00Z")).since).toEqual({ at: at("2026-03-08T07:00:00Z"), before: -5 * HOUR });
  // Chatham sets its clocks back from 03:45 to 02:45 (UTC+13:45 to +12:45).
  expect(offsetSpan("Pacific/Chatham", at("2026-04-04T14:10:00Z")).since).toEqual({ at: at("2026-04-04T14:00:00Z"), before: 13.75 * HOUR });
  // In January, New York's last change was in November of the year before.
  expect(offsetSpan("America/New_York", at("2026-01-15T00:00:00Z")).since).toEqual({ at: at("2025-11-02T06:00:00Z"), before: -4 * HOUR });
});
