import { Cron } from "croner";
import type { RecurrenceFields, RuleRange, RuleValue, Schedule } from "../../runner/contracts/index.js";

/**
 * An independent oracle of fire times, shared by test/schedule/fire-oracle.test.ts and
 * test/bench/fire-oracle.mjs: croner (another cron library, no code in common with
 * runlet's) says which wall-clock times match, in the process's zone, UTC, where no DST happens; this file
 * maps those wall-clock times to instants with the DST rules of docs/schedules.md, from
 * offsets it reads from Intl itself.
 *
 * Two spellings are translated for croner, each a documented reading, not a
 * disagreement: a field "*\/1" is "*" (runlet, cron-parser and cronstrue read it so;
 * croner's legacy mode takes it as a restricted day field), and "5L" (the last Friday) is
 * croner's "5#L".
 */
export function oracleFires(spec: Schedule, after: Date, count: number): string[] {
  // croner reads wall-clock times in the process's zone (with a `timezone` option it is ~300× slower).
  if (new Date(0).getTimezoneOffset() !== 0 || new Date(Date.UTC(2026, 6)).getTimezoneOffset() !== 0) throw new Error("the fire oracle needs the process in UTC (TZ=UTC)");
  switch (spec.kind) {
    case "cron": {
      const since = spec.start && spec.start > after ? spec.start.getTime() : after.getTime();
      const fires = wallFires(new Cron(cronPattern(spec.cron), { legacyMode: true, paused: true }), spec.timezone, since, count, hourFieldIsEvery(spec.cron) ? "twice" : "once", true);
      return fires.filter((t) => !spec.end || t <= spec.end.getTime()).map(iso);
    }
    case "rule": {
      const pattern = rulePattern(spec.rule);
      if (!pattern) return [];
      return wallFires(new Cron(pattern, { legacyMode: false, paused: true }), spec.timezone, after.getTime(), count, "twice", false).map(iso);
    }
    default:
      throw new Error(`the oracle covers cron and rule schedules (got ${spec.kind})`);
  }
}

const HOUR = 3_600_000;
const iso = (t: number) => new Date(t).toISOString();

function cronPattern(expr: string): string {
  const fields = expr.trim().split(/\s+/).map((f) => (f === "*/1" ? "*" : f));
  const dow = fields.length - 1;
  fields[dow] = fields[dow]!.split(",").map((part) => part.replace(/^(\w+)L$/i, "$1#L")).join(",");
  return fields.join(" ");
}

/** Whether a cron's hour field matches all 24 hours (then it fires twice through a repeated hour). */
function hourFieldIsEvery(expr: string): boolean {
  const fields = expr.trim().split(/\s+/);
  const hour = fields[fields.length - 4]!;
  const hours = new Set<number>();
  for (const part of hour.split(",")) {
    const [range, step = "1"] = part.split("/");
    const [a, b] = range === "*" ? [0, 23] : range!.split("-").map(Number);
    const end = b ?? (part.includes("/") ? 23 : a!);
    for (let h = a!; h <= end; h += Number(step)) hours.add(h);
  }
  return hours.size === 24;
}

/** A rule as a croner pattern of explicit values (AND of date and weekday); null when a field matches nothing. */
function rulePattern(rule: RecurrenceFields): string | null {
  const field = (value: RuleValue | undefined, min: number, max: number, shift = 0): string | null => {
    if (value === undefined) return "*";
    const found = new Set<number>();
    for (const item of Array.isArray(value) ? value : [value]) {
      if (typeof item === "number") found.add(item);
      else for (const v of expand(item)) found.add(v);
    }
    const inRange = [...found].filter((v) => v >= min && v <= max).sort((a, b) => a - b);
    return inRange.length === 0 ? null : inRange.map((v) => v + shift).join(",");
  };
  const fields = [field(rule.second ?? 0, 0, 59), field(rule.minute, 0, 59), field(rule.hour, 0, 23), field(rule.date, 1, 31), field(rule.month, 0, 11, 1), field(rule.dayOfWeek, 0, 6)];
  return fields.every((f) => f !== null) ? fields.join(" ") : null;
}

/** node-schedule's Range: a stepped range excludes its end, an unstepped one includes it. */
function expand({ start, end, step = 1 }: RuleRange): number[] {
  const values: number[] = [];
  for (let v = start; step === 1 ? v <= end : v < end; v += step) values.push(v);
  return values;
}

/**
 * The first `count` instants after `after` whose wall clock croner matches. A wall time
 * in a gap: read at the offset before it (cron), or none (rule). A wall time that
 * happens twice: at its first instant, and also its second when `overlap` is "twice".
 */
function wallFires(cron: Cron, zone: string | null, after: number, count: number, overlap: "once" | "twice", gapFires: boolean): number[] {
  const found: number[] = []; // the `count` earliest instants so far, sorted
  // The earliest wall-clock time that can map to an instant after `after`.
  let wall: Date | null = new Date(after + Math.min(...nearbyOffsets(zone, after)) - 1000);
  for (let walked = 0; walked < 100_000; walked++) {
    try {
      wall = cron.nextRun(wall);
    } catch (err) {
      // croner 9.1.0 recurses a step per month to the year 3000 and overflows the stack on
      // some crons that never fire (day 31 of 30-day months): no fire, as it means.
      if (err instanceof RangeError) break;
      throw err;
    }
    if (!wall) break;
    const w = wall.getTime();
    for (const t of instantsOf(zone, w, overlap, gapFires)) if (t > after && !found.includes(t)) found.splice(sortedIndex(found, t), 0, t);
    found.length = Math.min(found.length, count);
    // A later wall-clock time maps to an instant no earlier than this one's, less a DST change nearby.
    const nearby = nearbyOffsets(zone, w);
    if (found.length === count && w - Math.max(...nearby) - (Math.max(...nearby) - Math.min(...nearby)) > found[count - 1]!) break;
  }
  return found;
}

function sortedIndex(sorted: number[], t: number): number {
  let i = sorted.length;
  while (i > 0 && sorted[i - 1]! > t) i--;
  return i;
}

/** The offsets a day and a half either side of `t` (tzdata's changes are weeks apart). */
function nearbyOffsets(zone: string | null, t: number): number[] {
  return [offset(zone, t - 36 * HOUR), offset(zone, t), offset(zone, t + 36 * HOUR)];
}

function instantsOf(zone: string | null, wall: number, overlap: "once" | "twice", gapFires: boolean): number[] {
  const offsets = new Set(nearbyOffsets(zone, wall));
  const valid = [...offsets].filter((o) => offset(zone, wall - o) === o).map((o) => wall - o).sort((a, b) => a - b);
  if (valid.length === 0) {
    if (!gapFires) return [];
    // The offset before the gap is the one that, read back, lands past the change.
    const before = [...offsets].find((o) => offset(zone, wall - o) > o)!;
    return [wall - before];
  }
  return overlap === "twice" ? valid : valid.slice(0, 1);
}

const formats = new Map<string, Intl.DateTimeFormat>();
const quarters = new Map<string, number>();
const QUARTER = 15 * 60_000;

/**
 * The zone's UTC offset at instant `t`, in ms, read from Intl (the process zone is UTC in
 * tests). Remembered per quarter hour of UTC: offsets are whole quarter hours, so
 * tzdata's changes fall on quarter hours of UTC.
 */
export function offset(zone: string | null, t: number): number {
  const name = zone ?? "UTC";
  const key = `${name}|${Math.floor(t / QUARTER)}`;
  let found = quarters.get(key);
  if (found === undefined) {
    if (quarters.size > 1_000_000) quarters.clear();
    quarters.set(key, (found = offsetNow(name, Math.floor(t / QUARTER) * QUARTER)));
  }
  return found;
}

function offsetNow(name: string, t: number): number {
  let format = formats.get(name);
  if (!format) formats.set(name, (format = new Intl.DateTimeFormat("en-US", { timeZone: name, hourCycle: "h23", year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit", second: "2-digit" })));
  const [month, day, year, hour, minute, second] = format.format(t).match(/\d+/g)!.map(Number);
  return Date.UTC(year!, month! - 1, day!, hour!, minute!, second!) - t;
}

/** The instants in [from, to) where the zone's offset changes (sampled 12 hours apart: changes are weeks apart). */
export function offsetChanges(zone: string, from: number, to: number): number[] {
  const changes: number[] = [];
  const step = 12 * HOUR;
  for (let t = from; t < to; t += step) {
    const before = offset(zone, t);
    if (before === offset(zone, t + step)) continue;
    let lo = t;
    let hi = t + step;
    while (hi - lo > QUARTER) {
      const mid = lo + Math.floor((hi - lo) / (2 * QUARTER)) * QUARTER;
      if (offset(zone, mid) === before) lo = mid;
      else hi = mid;
    }
    changes.push(hi);
  }
  return changes;
}

/**
 * The oracle's own known error, not a choice of runlet's: croner 9.1.0 skips March 1
 * after a February that lacks a day its day-of-month field holds ("1,30", "*\/6" with
 * 31): `0 0 1,31 * *` from 2027-02-20 gives 03-31, 04-01. True when the only difference
 * is fires of runlet's on March 1 (wall clock) that the oracle lacks.
 */
export function cronerSkippedMarchFirst(zone: string | null, ours: string[], oracle: string[]): boolean {
  const marchFirst = (t: string) => {
    const wall = new Date(Date.parse(t) + offset(zone, Date.parse(t)));
    return wall.getUTCMonth() === 2 && wall.getUTCDate() === 1;
  };
  const rest = ours.filter((t) => !marchFirst(t));
  return rest.length < ours.length && JSON.stringify(oracle.slice(0, rest.length)) === JSON.stringify(rest);
}
