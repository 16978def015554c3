import type { RecurrenceFields, RuleRange, RuleValue } from "../contracts/index.js";
import type { WallCalendar } from "./wall-calendar.js";

/**
 * A recurrence rule read into the sets of values it matches, with node-schedule's
 * meaning of its fields: a left-out field matches anything except `second` (0); `month`
 * is 0–11; a date and a day of week both given must both match; a stepped range excludes
 * its end (`{ start: 0, end: 10, step: 5 }` is 0 and 5) and an unstepped one includes it.
 *
 * One departure, a bug of node-schedule's `Range` (its end defaults to 60 when 0):
 * `{ start: 0, end: 0 }` is 0, as written, not every value.
 */
export function readRule(rule: RecurrenceFields): WallCalendar {
  let cal = read.get(rule);
  if (!cal) {
    cal = {
      seconds: ruleValues(rule.second ?? 0, 0, 59),
      minutes: ruleValues(rule.minute, 0, 59),
      hours: ruleValues(rule.hour, 0, 23),
      months: ruleValues(rule.month, 0, 11).map((m) => m + 1),
      years: rule.year === undefined ? null : ruleValues(rule.year, 1970, 9999),
      dates: ruleValues(rule.date, 1, 31),
      dateLast: false,
      weekdays: ruleValues(rule.dayOfWeek, 0, 6),
      lastWeekdays: [],
      nthWeekdays: [],
      anyDate: rule.date === undefined,
      anyWeekday: rule.dayOfWeek === undefined,
      days: "both",
    };
    read.set(rule, cal);
  }
  return cal;
}

// Schedules are immutable once validated: one reading per rule object.
const read = new WeakMap<RecurrenceFields, WallCalendar>();

/** The values of a rule field within min..max, sorted; every value when the field is left out. */
export function ruleValues(value: RuleValue | undefined, min: number, max: number): number[] {
  const found = new Set<number>();
  if (value === undefined) {
    for (let v = min; v <= max; v++) found.add(v);
  } else {
    for (const item of Array.isArray(value) ? value : [value]) {
      for (const v of typeof item === "number" ? [item] : rangeValues(item)) if (v >= min && v <= max) found.add(v);
    }
  }
  return [...found].sort((a, b) => a - b);
}

function rangeValues({ start, end, step = 1 }: RuleRange): number[] {
  const found: number[] = [];
  if (step === 1) for (let v = start; v <= end; v++) found.push(v);
  else for (let v = start; v < end; v += step) found.push(v);
  return found;
}
