import type { Schedule } from "../contracts/index.js";
import { readCron } from "./cron-reading.js";
import { readRule } from "./rule-reading.js";
import { firstWallMatch } from "./wall-calendar.js";
import { nextWallFire } from "./zone-walk.js";

/**
 * How far ahead a fire is looked for. A cron string that fires at all fires within 8
 * years (February 29 skips 2100); a rule's date and weekday together can wait 28 years
 * (a Monday the 29th of February). Past this a schedule counts as never firing again:
 * the manifest stage refuses one that has no fire in this reach, and no walk goes further.
 */
export const FIRE_HORIZON_YEARS = 30;
const HORIZON_MS = FIRE_HORIZON_YEARS * 365.25 * 86_400_000;

/**
 * Pure time arithmetic: the first fire of a schedule strictly after `after`, or null when
 * it has none within {@link FIRE_HORIZON_YEARS}. The same question always gets the same
 * answer, whoever asks (the timer, `runlet list`, the HTTP API, catch-up): nothing is
 * kept between calls. docs/schedules.md says how crons, rules and DST changes are read.
 */
export function nextFire(spec: Schedule, after: Date): Date | null {
  const from = after.getTime();
  switch (spec.kind) {
    case "cron": {
      // A window as node-schedule reads { start, end, rule }: a fire exactly at start is not one, one at end is.
      const since = spec.start && spec.start.getTime() > from ? spec.start.getTime() : from;
      const limit = Math.min(spec.end?.getTime() ?? Infinity, since + HORIZON_MS);
      return dateOrNull(nextWallFire(readCron(spec.cron), spec.timezone, since, limit, "cron"));
    }
    case "rule":
      return dateOrNull(nextWallFire(readRule(spec.rule), spec.timezone, from, from + HORIZON_MS, "rule"));
    case "every":
      return new Date((Math.floor(from / spec.everyMs) + 1) * spec.everyMs);
    case "at":
      return spec.at.getTime() > from ? new Date(spec.at.getTime()) : null;
  }
}

function dateOrNull(ms: number | null): Date | null {
  return ms === null ? null : new Date(ms);
}

/** The next `count` fires after `after` (fewer when the schedule ends). */
export function nextFires(spec: Schedule, after: Date, count: number): Date[] {
  const fires: Date[] = [];
  for (let at: Date | null = after; fires.length < count && (at = nextFire(spec, at)); ) fires.push(at);
  return fires;
}

/**
 * Whether a schedule fires at all after `after`, within {@link FIRE_HORIZON_YEARS}: what
 * the manifest stage checks for every schedule. A cron or rule without a window is asked
 * on the wall clock only (a day's margin covers any zone's offset): ~1 µs, where a fire
 * search through the zone's offsets costs tens. Every wall time a cron matches fires (in a
 * gap, just after it); a rule whose only matches fell in DST gaps would pass this and
 * have no fire, which no rule of whole hours and days can do.
 */
export function firesAfter(spec: Schedule, after: Date): boolean {
  const from = after.getTime();
  if (spec.kind === "cron" && !spec.start && !spec.end) return firstWallMatch(readCron(spec.cron), from - DAY_MS, from + HORIZON_MS + DAY_MS) !== null;
  if (spec.kind === "rule") return firstWallMatch(readRule(spec.rule), from - DAY_MS, from + HORIZON_MS + DAY_MS) !== null;
  return nextFire(spec, after) !== null;
}

const DAY_MS = 86_400_000;
