import cronParser, { type CronExpression } from "cron-parser";
import { RunletError } from "../errors.js";
import type { Schedule } from "../contracts/index.js";
import { calendarOf, dayMatches, firstMatch, type CronCalendar } from "./cron-calendar.js";
import { offsetSpan, type OffsetSpan } from "./zone-offset.js";

type CronSchedule = Extract<Schedule, { kind: "cron" }>;

const DAY_MS = 86_400_000;
const HOUR_MS = 3_600_000;
/**
 * cron-parser gives up after 10,000 steps of its walk and node-schedule then never fires.
 * A walk of a year at most (a step per day, a few hundred on the last day) stays far below
 * that, so answers up to this far ahead are safe to give without it; beyond, ask it.
 */
const FAST_SPAN_MS = 366 * DAY_MS;

/**
 * What the calendar search found: a fire (and, when cron-parser's walk would have noted a
 * DST gap on the way, the hour it notes), or the point to let cron-parser walk on from.
 */
type Found = { fire: number; dstStart?: number } | { parserFrom: number };

/** cron-parser's memory of a DST change it crossed: not in its types, read and set here only. */
interface DstWalk {
  _dstStart?: number | null;
  _dstEnd?: number | null;
}

/** What is kept per schedule between calls (schedules are immutable once validated). */
interface CronState {
  /** The calendar of the fast path; null when the expression needs cron-parser's own walk. */
  calendar: CronCalendar | null;
  /** cron-parser's iterator after the fire it found last, as node-schedule keeps one per job. */
  iterator: CronExpression | null;
  iteratorAt: number;
}

const states = new WeakMap<CronSchedule, CronState>();

/**
 * The first fire of a cron schedule strictly after `after`, as node-schedule 2.1.1 computes
 * it: cron-parser's `parseExpression(cron, { currentDate, tz }).next()`, asked again from
 * each fire, with `start` and `end` read as node-schedule reads `{ start, end, rule }` (it
 * starts the iterator at `start` when that is ahead, so a fire exactly at `start` is not
 * one; a fire exactly at `end` is).
 *
 * cron-parser's walk costs ~0.3–3 ms per fire in a zone; 100,000 distinct crons took
 * ~50 s. Where the zone's offset holds still, the calendar search of cron-calendar.ts
 * gives the same answer in µs; across the usual one-hour DST changes it follows what the
 * walk does; for the rest (a fire in the hour after a gap, changes off the hour or across
 * midnight, fires over a year away) cron-parser walks, starting from a point its walk from
 * `after` passes too. test/schedule/cron-equivalence.test.ts holds both to the same dates.
 */
export function nextCronFire(spec: CronSchedule, after: Date): Date | null {
  const from = spec.start && spec.start.getTime() > after.getTime() ? spec.start.getTime() : after.getTime();
  const next = nextAfter(spec, stateOf(spec), from);
  if (next === null || (spec.end && next > spec.end.getTime())) return null;
  return new Date(next);
}

function nextAfter(spec: CronSchedule, state: CronState, from: number): number | null {
  const continuing = state.iterator !== null && state.iteratorAt === from;
  // cron-parser carries a DST change it just crossed (`_dstStart`, `_dstEnd`) into its next
  // answer, and node-schedule's iterator with it: such a walk goes on in cron-parser.
  if (continuing && crossedDst(state.iterator!)) return parserNext(spec, state, state.iterator!, from);
  const found = state.calendar ? calendarNext(spec, state.calendar, from) : { parserFrom: from };
  if ("fire" in found) {
    if (found.dstStart !== undefined) {
      // Leave cron-parser's iterator where its own walk would be, change noted, for the next call.
      const iterator = parse(spec, found.fire);
      (iterator as unknown as DstWalk)._dstStart = found.dstStart;
      state.iterator = iterator;
      state.iteratorAt = found.fire;
    }
    return found.fire;
  }
  const iterator = continuing && found.parserFrom === from ? state.iterator! : parse(spec, found.parserFrom);
  const next = parserNext(spec, state, iterator, from);
  // Started late, cron-parser's step budget reaches further than node-schedule's: ask again from the start.
  if (found.parserFrom !== from && next !== null && next - from > FAST_SPAN_MS) return parserNext(spec, state, parse(spec, from), from);
  return next;
}

/**
 * cron-parser's walk from `from`, retraced span by span between offset changes. Returns the
 * fire, or the point to let cron-parser walk on from: one its own walk passes through with no
 * DST change remembered and no fire before it, so both walks go on alike from there.
 */
function calendarNext(spec: CronSchedule, cal: CronCalendar, from: number): Found {
  const limit = from + FAST_SPAN_MS;
  // cron-parser's first candidate is the whole second after `from`; `visited` is a point its
  // walk passes through (from which it would go on alike), `start` the first candidate.
  let visited = from;
  let start = Math.floor(from / 1000) * 1000 + 1000;
  let span = offsetSpan(spec.timezone, from);
  if (span.until <= start) return { parserFrom: from };
  for (;;) {
    const next = span.changes ? offsetSpan(spec.timezone, span.until) : null;
    // Clocks set back across midnight (Havana, the Azores) make a midnight happen twice, and
    // a day step of cron-parser may land on either: the calendar stops before the first.
    const midnight = next ? Math.ceil((span.until + next.offset) / DAY_MS) * DAY_MS : Infinity;
    const twiceMidnight = next !== null && next.offset < span.offset && midnight < span.until + span.offset;
    // A change off the hour (Chatham's, at 02:45): an hour step of cron-parser from the hour
    // before it lands past it, at the new offset, and skips the rest of the old hour. On a
    // day it steps by hour, the calendar stops at the start of that hour.
    const hourBefore = Math.floor((span.until - HOUR_MS + span.offset) / HOUR_MS) * HOUR_MS - span.offset;
    const offHour = next !== null && (span.until + span.offset) % HOUR_MS !== 0 && (firesOn(cal, hourBefore + span.offset) || firesOn(cal, span.until - 1 + span.offset));
    const last = Math.min(span.until - 1, limit, twiceMidnight ? midnight - span.offset - 1 : Infinity, offHour ? hourBefore : Infinity);
    const wall = firstMatch(cal, start + span.offset, last + span.offset);
    if (wall !== null) return { fire: wall - span.offset };
    if (!next || span.until > limit) return { parserFrom: from };
    if (twiceMidnight) return { parserFrom: visited };
    if (offHour) return { parserFrom: firesOn(cal, hourBefore + span.offset) ? Math.max(visited, hourBefore) : visited };
    const resume = acrossChange(cal, span, next, visited);
    if (typeof resume !== "number") return resume;
    visited = start = resume;
    span = offsetSpan(spec.timezone, resume);
  }
}

/**
 * Where cron-parser's walk, having found no fire before the offset change at `span.until`,
 * goes on as a plain calendar search at the new offset; or, for the cases left to it, a
 * point its walk passes with nothing noted yet: the start of the hour before the change,
 * or `visited`.
 *
 * Its walk steps over a day the calendar does not fire on with a day or month step and
 * lands on the next midnight. On a day it fires on, it steps by hour, minute or second
 * across the change and notes it when hours are restricted (`_dstStart` on a gap,
 * `_dstEnd` on an overlap). Copied from cron-parser 4.9.0 `_findSchedule` for one-hour
 * changes on the hour; others are left to it.
 */
function acrossChange(cal: CronCalendar, span: OffsetSpan, next: OffsetSpan, visited: number): number | Found {
  const change = span.until;
  const newOffset = next.offset;
  const lastWall = change - 1 + span.offset;
  const day = Math.floor(lastWall / DAY_MS) * DAY_MS;
  const handOff = { parserFrom: Math.max(visited, Math.floor(lastWall / HOUR_MS) * HOUR_MS - span.offset) };
  if (!dayMatches(cal, day)) {
    // A midnight that does not exist, or falls in yet another span: where its day step
    // lands depends on where it stepped from, so the walk is left to cron-parser.
    const nextDay = day + DAY_MS - newOffset;
    return nextDay >= change && nextDay < next.until ? nextDay : { parserFrom: visited };
  }
  const landing = change + newOffset;
  if ((change + span.offset) % HOUR_MS !== 0 || Math.floor(landing / DAY_MS) * DAY_MS !== day) return handOff;
  const hour = new Date(landing).getUTCHours();
  const restricted = cal.hours.length !== 24;
  if (newOffset - span.offset === HOUR_MS) {
    // Gap: it lands at `hour` (03:00 for a 02:00 change), noting it when hours are
    // restricted. If the hour before is in the cron and this one is not ("30 2 * * *"),
    // it then fires in the landing hour, at its first minute and second (03:30), and goes
    // on from there with the change still noted.
    if (!restricted || cal.hours.includes(hour) || !cal.hours.includes(hour - 1)) return change;
    return { fire: change + (cal.minutes[0]! * 60 + cal.seconds[0]!) * 1000, dstStart: hour };
  }
  if (newOffset - span.offset === -HOUR_MS) {
    // Overlap: with hours restricted, an hour in the cron is not repeated (01:30 fires once).
    return restricted && cal.hours.includes(hour) ? change + HOUR_MS : change;
  }
  return handOff;
}

function parserNext(spec: CronSchedule, state: CronState, iterator: CronExpression, from: number): number | null {
  let next: number;
  try {
    next = iterator.next().getTime();
  } catch (err) {
    // node-schedule schedules nothing when cron-parser finds no fire within its loop limit.
    if (err instanceof Error && /loop limit exceeded/.test(err.message)) return null;
    throw new RunletError("BAD_INPUT", `cron "${spec.cron}" cannot be iterated from ${new Date(from).toISOString()}: ${String(err)}`, { cause: err });
  }
  state.iterator = iterator;
  state.iteratorAt = next;
  return next;
}

function stateOf(spec: CronSchedule): CronState {
  let state = states.get(spec);
  if (!state) {
    // The fields do not depend on the zone; parsing without one spares luxon a zone lookup.
    state = { calendar: calendarOf(parse({ ...spec, timezone: null }, 0)), iterator: null, iteratorAt: NaN };
    states.set(spec, state);
  }
  return state;
}

function parse(spec: CronSchedule, from: number): CronExpression {
  try {
    return cronParser.parseExpression(spec.cron, { currentDate: new Date(from), ...(spec.timezone ? { tz: spec.timezone } : {}) });
  } catch (err) {
    throw new RunletError("BAD_INPUT", `cron "${spec.cron}" cannot be parsed (the manifest stage should have refused it): ${String(err)}`, { cause: err });
  }
}

/** Whether the calendar fires on the wall-clock day of `wall`. */
function firesOn(cal: CronCalendar, wall: number): boolean {
  return dayMatches(cal, Math.floor(wall / DAY_MS) * DAY_MS);
}

function crossedDst(iterator: CronExpression): boolean {
  const walk = iterator as unknown as DstWalk;
  return walk._dstStart != null || walk._dstEnd != null;
}
