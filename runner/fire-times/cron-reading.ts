import { RunletError } from "../errors.js";
import type { WallCalendar } from "./wall-calendar.js";

/**
 * A cron string (5 fields, or 6 with seconds first) read into the sets of values it
 * matches. The manifest stage has checked its syntax (runner/manifest/cron-fields.ts);
 * this reads it the way cronstrue describes it, which is how `runlet list` shows it.
 *
 * cron-parser 4.9.0 (and node-schedule with it) misreads a few valid strings, and they
 * are read as written here instead (docs/schedules.md): a day of month and a day of week
 * both restricted match either day, whatever their lengths ("1-30", "1-7", "1-15,10-25"
 * are not "*"); "5#2" does not drop the day of month beside it; "6-7/6" and "6/4" are
 * Saturday only. A field is unrestricted only when written "*", "?" or "*\/1".
 */
export function readCron(expr: string): WallCalendar {
  let cal = read.get(expr);
  if (!cal) {
    // Large manifests repeat the same few strings; a reading is pure, so remember it.
    if (read.size >= 10_000) read.clear();
    read.set(expr, (cal = readUncached(expr)));
  }
  return cal;
}

const read = new Map<string, WallCalendar>();

const MONTHS = ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"];
const DAYS = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"];

interface Field {
  min: number;
  max: number;
  /** Where "*" and "n/step" end, when not at `max`. */
  last?: number;
  names?: string[];
}

const SECOND: Field = { min: 0, max: 59 };
const MINUTE: Field = { min: 0, max: 59 };
const HOUR: Field = { min: 0, max: 23 };
const DATE: Field = { min: 1, max: 31 };
const MONTH: Field = { min: 1, max: 12, names: MONTHS };
// 7 is Sunday too, as in cron: a range may end at 7. "*" and "n/step" run to Saturday
// (6), as cronstrue reads them: "5/2" is Friday only, not Friday and Sunday.
const WEEKDAY: Field = { min: 0, max: 7, last: 6, names: DAYS };

function readUncached(expr: string): WallCalendar {
  const fields = expr.trim().split(/\s+/);
  if (fields.length !== 5 && fields.length !== 6) throw bad(expr, `it has ${fields.length} fields, expected 5 or 6`);
  const [second, minute, hour, date, month, weekday] = fields.length === 6 ? fields : ["0", ...fields];
  const cal: WallCalendar = {
    seconds: values(second!, SECOND, expr),
    minutes: values(minute!, MINUTE, expr),
    hours: values(hour!, HOUR, expr),
    months: values(month!, MONTH, expr),
    years: null,
    dates: [],
    dateLast: false,
    weekdays: [],
    lastWeekdays: [],
    nthWeekdays: [],
    anyDate: unrestricted(date!),
    anyWeekday: unrestricted(weekday!),
    days: "either",
  };
  const dates = new Set<number>();
  for (const part of date!.split(",")) {
    if (part === "L") cal.dateLast = true;
    else if (/W$/i.test(part)) throw bad(expr, `"${part}" (the weekday nearest a day) is not supported; list the days instead`);
    else for (const v of partValues(part, DATE, expr)) dates.add(v);
  }
  cal.dates = sorted(dates);
  const weekdays = new Set<number>();
  for (const part of weekday!.split(",")) {
    const last = /^(\w+)L$/i.exec(part);
    const nth = /^(\w+)#(\d)$/.exec(part);
    if (part.toUpperCase() === "L") throw bad(expr, `a bare "L" as day of week is not supported; write the last weekday of the month as "5L" (last Friday)`);
    else if (last) cal.lastWeekdays.push(single(last[1]!, WEEKDAY, expr) % 7);
    else if (nth) cal.nthWeekdays.push({ weekday: single(nth[1]!, WEEKDAY, expr) % 7, nth: Number(nth[2]) });
    else for (const v of partValues(part, WEEKDAY, expr)) weekdays.add(v % 7);
  }
  cal.weekdays = sorted(weekdays);
  return cal;
}

/** "*", "?" and "*\/1" match every value: for a day field, the other day field then decides alone. */
function unrestricted(text: string): boolean {
  return text === "*" || text === "?" || text === "*/1";
}

function values(text: string, field: Field, expr: string): number[] {
  // Most fields are one plain number: read it without the general path (100,000 distinct
  // crons are read at every load of a manifest that size).
  if (/^\d+$/.test(text)) return [single(text, field, expr)];
  const found = new Set<number>();
  for (const part of text.split(",")) for (const v of partValues(part, field, expr)) found.add(v);
  return sorted(found);
}

/** One list item: "*", "?", "n", "a-b", each with an optional "/step" ("n/step" runs to the field's end). */
function partValues(part: string, field: Field, expr: string): number[] {
  const [range, stepText, extra] = part.split("/");
  if (extra !== undefined || range === undefined || range === "") throw bad(expr, `"${part}" is not a value, a range a-b or a step`);
  const step = stepText === undefined ? 1 : Number(stepText);
  if (!Number.isInteger(step) || step < 1) throw bad(expr, `"${part}" has a step that is not a whole number of at least 1`);
  let from: number;
  let to: number;
  if (range === "*" || range === "?") {
    from = field.min;
    to = field.last ?? field.max;
  } else if (range.includes("-")) {
    const [a, b, more] = range.split("-");
    if (more !== undefined) throw bad(expr, `"${part}" is not a range a-b`);
    from = single(a!, field, expr);
    to = single(b!, field, expr);
  } else {
    from = single(range, field, expr);
    // "7/2" steps from Sunday: as "0/2" (cronstrue's reading; the manifest stage asks for "0/2").
    if (stepText !== undefined && field.last !== undefined && from > field.last) from = from % 7;
    to = stepText === undefined ? from : (field.last ?? field.max);
  }
  if (from > to) throw bad(expr, `range "${range}" starts after it ends`);
  const found: number[] = [];
  for (let v = from; v <= to; v += step) found.push(v);
  return found;
}

function single(text: string, field: Field, expr: string): number {
  const named = field.names?.indexOf(text.toUpperCase()) ?? -1;
  const n = /^\d+$/.test(text) ? Number(text) : named >= 0 ? named + (field.names === MONTHS ? 1 : 0) : NaN;
  if (!(n >= field.min && n <= field.max)) throw bad(expr, `"${text}" is not a value ${field.min}-${field.max}`);
  return n;
}

function sorted(set: Set<number>): number[] {
  return [...set].sort((a, b) => a - b);
}

function bad(expr: string, why: string): RunletError {
  return new RunletError("BAD_INPUT", `cron "${expr}" cannot be read: ${why}`);
}
