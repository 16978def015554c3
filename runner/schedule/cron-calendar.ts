import type { CronExpression } from "cron-parser";

/**
 * cron-parser's matching rules, applied to wall-clock time at one fixed UTC offset.
 *
 * cron-parser finds the next fire by walking forward one second, minute, hour, day or
 * month at a time through luxon, which costs 10 µs–3 ms per fire (a daily cron in a zone:
 * ~1 ms). Where the zone's offset does not change, that walk is a plain calendar search,
 * and this one gives the same answer in a few µs: it uses cron-parser's own parsed fields
 * and copies its day rules (`_findSchedule` in cron-parser 4.9.0's lib/expression.js),
 * quirks included. Across DST changes cron-next.ts follows the walk, or leaves it to cron-parser.
 *
 * Wall-clock times here are ms since the epoch of the wall clock read as if it were UTC.
 */
export interface CronCalendar {
  seconds: number[];
  minutes: number[];
  hours: number[];
  /** Numbers of the day-of-month field (strings such as "L" left out). */
  dates: number[];
  /** Whether the day-of-month field holds an "L" (last day of the month). */
  dateLast: boolean;
  /** cron-parser's test for a day-of-month wildcard: as many values as the month has days. */
  dateCount: number;
  weekdays: number[];
  /** Weekdays of "5L"-style items: the last such weekday of the month. */
  lastWeekdays: number[];
  weekdayWildcard: boolean;
  /** The n of "5#n", or 0. */
  nth: number;
  months: number[];
}

const DAY_MS = 86_400_000;
/** cron-parser's own table (February counted as 29) for its day-of-month wildcard test. */
const DAYS_IN_MONTH = [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/** The calendar of a parsed expression, or null when it holds something this file does not copy. */
export function calendarOf(expr: CronExpression): CronCalendar | null {
  const f = expr.fields;
  const numbers = (values: readonly unknown[]) => {
    const found: number[] = [];
    for (const v of values) if (typeof v === "number") found.push(v);
    return found;
  };
  const dowStrings = f.dayOfWeek.filter((v) => typeof v === "string") as unknown as string[];
  const lastWeekdays = dowStrings.filter((s) => s.includes("L")).map((s) => Number.parseInt(s[0]!, 10) % 7);
  // A bare "L" in the weekday field makes cron-parser throw while iterating: let it.
  if (lastWeekdays.some(Number.isNaN)) return null;
  return {
    seconds: numbers(f.second),
    minutes: numbers(f.minute),
    hours: numbers(f.hour),
    dates: numbers(f.dayOfMonth),
    dateLast: f.dayOfMonth.some((v) => typeof v === "string" && v.includes("L")),
    dateCount: f.dayOfMonth.length,
    weekdays: numbers(f.dayOfWeek),
    lastWeekdays,
    weekdayWildcard: f.dayOfWeek.length === 8,
    // Not in cron-parser's types: the "#n" of the weekday field, kept on the expression.
    nth: (expr as unknown as { _nthDayOfWeek?: number })._nthDayOfWeek ?? 0,
    months: numbers(f.month),
  };
}

/**
 * The first wall-clock second at or after `from` (whole seconds) that the calendar
 * matches, searching no further than `until`; null if none.
 */
export function firstMatch(cal: CronCalendar, from: number, until: number): number | null {
  let day = Math.floor(from / DAY_MS) * DAY_MS;
  let secondOfDay = (from - day) / 1000;
  while (day <= until) {
    const d = new Date(day);
    const month = d.getUTCMonth();
    if (!cal.months.includes(month + 1)) {
      // cron-parser steps to the first of the next month when the month does not match.
      day = Date.UTC(d.getUTCFullYear(), month + 1, 1);
      secondOfDay = 0;
      continue;
    }
    if (dayRuleMatches(cal, d)) {
      const second = firstTimeOfDay(cal, secondOfDay);
      if (second !== null && day + second * 1000 <= until) return day + second * 1000;
      if (second !== null) return null;
    }
    day += DAY_MS;
    secondOfDay = 0;
  }
  return null;
}

/** Whether the calendar can fire at all on the wall-clock day starting at `day` (month and day rules). */
export function dayMatches(cal: CronCalendar, day: number): boolean {
  const d = new Date(day);
  return cal.months.includes(d.getUTCMonth() + 1) && dayRuleMatches(cal, d);
}

/** cron-parser's day rule: day of month OR day of week when both are restricted, as cron does. */
function dayRuleMatches(cal: CronCalendar, d: Date): boolean {
  const date = d.getUTCDate();
  const weekday = d.getUTCDay();
  const month = d.getUTCMonth();
  const dateMatch = cal.dates.includes(date) || (cal.dateLast && isLastDayOfMonth(d));
  const weekdayMatch = cal.weekdays.includes(weekday) || cal.lastWeekdays.some((w) => w === weekday && isLastWeekdayOfMonth(d));
  const dateWildcard = cal.dateCount >= DAYS_IN_MONTH[month]!;
  if (!dateMatch && (!weekdayMatch || cal.weekdayWildcard)) return false;
  if (!dateWildcard && cal.weekdayWildcard && !dateMatch) return false;
  if (dateWildcard && !cal.weekdayWildcard && !weekdayMatch) return false;
  if (cal.nth > 0 && !isNthDayMatch(date, cal.nth)) return false;
  return true;
}

/** cron-parser's isNthDayMatch, verbatim in effect. */
function isNthDayMatch(date: number, nth: number): boolean {
  if (nth >= 6) return false;
  if (date < 8 && nth === 1) return true;
  const offset = date % 7 ? 1 : 0;
  return Math.floor((date - (date % 7)) / 7) + offset === nth;
}

function isLastDayOfMonth(d: Date): boolean {
  return new Date(d.getTime() + DAY_MS).getUTCMonth() !== d.getUTCMonth();
}

function isLastWeekdayOfMonth(d: Date): boolean {
  return new Date(d.getTime() + 7 * DAY_MS).getUTCMonth() !== d.getUTCMonth();
}

/** The first second of the day at or after `from` (seconds since midnight) that matches hour, minute and second. */
function firstTimeOfDay(cal: CronCalendar, from: number): number | null {
  const h0 = Math.floor(from / 3600);
  const m0 = Math.floor((from % 3600) / 60);
  const s0 = from % 60;
  for (const h of cal.hours) {
    if (h < h0) continue;
    for (const m of cal.minutes) {
      if (h === h0 && m < m0) continue;
      const floor = h === h0 && m === m0 ? s0 : 0;
      for (const s of cal.seconds) if (s >= floor) return h * 3600 + m * 60 + s;
    }
  }
  return null;
}
