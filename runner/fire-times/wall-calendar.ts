/**
 * What a cron string or a recurrence rule matches, as sets of wall-clock field values, and
 * the search for the first wall-clock second that matches. Time zones and DST are not
 * here (zone-walk.ts maps wall-clock times to instants); wall-clock times are ms since
 * the epoch of the wall clock read as if it were UTC.
 */
export interface WallCalendar {
  /** Sorted, without duplicates, like every list below. */
  seconds: number[];
  minutes: number[];
  hours: number[];
  /** 1–12. */
  months: number[];
  /** null: any year. */
  years: number[] | null;
  /** Days of the month, 1–31. */
  dates: number[];
  /** The last day of the month (cron's "L"). */
  dateLast: boolean;
  /** Days of the week, 0–6 (0 = Sunday). */
  weekdays: number[];
  /** The last such weekday of the month (cron's "5L"). */
  lastWeekdays: number[];
  /** The n-th such weekday of the month (cron's "5#2"). */
  nthWeekdays: Array<{ weekday: number; nth: number }>;
  /** The day-of-month field matches every day ("*"): the day is then the weekday field's alone. */
  anyDate: boolean;
  /** The day-of-week field matches every day. */
  anyWeekday: boolean;
  /**
   * How a restricted day of month and a restricted day of week combine: "either" (cron, as
   * Vixie cron and croner's legacy mode: the 13th and every Friday) or "both" (a recurrence
   * rule, as node-schedule's RecurrenceRule: Friday the 13th).
   */
  days: "either" | "both";
}

const DAY_MS = 86_400_000;

/**
 * The first wall-clock second at or after `from` that the calendar matches, no later than
 * `until`; null if none. Steps a day (or a month, or a year) at a time, so a search over
 * ten years of a calendar that never matches costs ~3,650 cheap steps, not a hang.
 */
export function firstWallMatch(cal: WallCalendar, from: number, until: number): number | null {
  const start = Math.ceil(from / 1000) * 1000;
  let day = Math.floor(start / DAY_MS) * DAY_MS;
  let secondOfDay = (start - day) / 1000;
  while (day <= until) {
    const d = new Date(day);
    const year = d.getUTCFullYear();
    const month = d.getUTCMonth();
    if (cal.years && !cal.years.includes(year)) {
      const later = cal.years.find((y) => y > year);
      if (later === undefined) return null;
      day = Date.UTC(later, 0, 1);
      secondOfDay = 0;
      continue;
    }
    if (!cal.months.includes(month + 1)) {
      day = Date.UTC(year, month + 1, 1);
      secondOfDay = 0;
      continue;
    }
    if (dayMatches(cal, d)) {
      const second = firstTimeOfDay(cal, secondOfDay);
      if (second !== null) {
        const wall = day + second * 1000;
        return wall <= until ? wall : null;
      }
    }
    day += DAY_MS;
    secondOfDay = 0;
  }
  return null;
}

/** The day rules on the wall-clock day `d` (month and year aside). */
function dayMatches(cal: WallCalendar, d: Date): boolean {
  if (cal.anyDate && cal.anyWeekday) return true;
  const byDate = !cal.anyDate && dateMatches(cal, d);
  const byWeekday = !cal.anyWeekday && weekdayMatches(cal, d);
  if (cal.anyDate) return byWeekday;
  if (cal.anyWeekday) return byDate;
  return cal.days === "either" ? byDate || byWeekday : byDate && byWeekday;
}

function dateMatches(cal: WallCalendar, d: Date): boolean {
  return cal.dates.includes(d.getUTCDate()) || (cal.dateLast && new Date(d.getTime() + DAY_MS).getUTCDate() === 1);
}

function weekdayMatches(cal: WallCalendar, d: Date): boolean {
  const weekday = d.getUTCDay();
  if (cal.weekdays.includes(weekday)) return true;
  if (cal.lastWeekdays.includes(weekday) && new Date(d.getTime() + 7 * DAY_MS).getUTCMonth() !== d.getUTCMonth()) return true;
  const nth = Math.ceil(d.getUTCDate() / 7);
  return cal.nthWeekdays.some((n) => n.weekday === weekday && n.nth === nth);
}

/** The first second of the day at or after `from` (seconds since midnight) that matches hour, minute and second. */
function firstTimeOfDay(cal: WallCalendar, from: number): number | null {
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
