import { firstWallMatch, type WallCalendar } from "./wall-calendar.js";
import { offsetSpan } from "./zone-offset.js";

const DAY_MS = 86_400_000;

/**
 * What a schedule does at a DST change (docs/schedules.md):
 * - "cron": a wall time in a gap fires at the instant it would have had at the offset
 *   before the change (02:30 on spring-forward day in New York fires at 03:30; 02:15 on
 *   Lord Howe, whose clocks skip 02:00–02:30, at 02:45). A wall time that happens twice
 *   fires once, at its first occurrence, unless the hour field is "*": an hourly or
 *   finer cron keeps firing through the repeated hour, as elapsed time goes on.
 * - "rule": a recurrence rule fires at every instant whose wall clock matches: a time in
 *   a gap does not happen, a time that happens twice fires twice (node-schedule's
 *   RecurrenceRule does this).
 */
export type DstRule = "cron" | "rule";

/**
 * The first instant (whole seconds) strictly after `after` and no later than `limit`
 * whose wall clock in `zone` the calendar matches under the DST rule; null if none.
 *
 * A pure function of its arguments: nothing is kept between calls, so every caller (the
 * timer, `runlet list`, the HTTP API, catch-up) gets the same answer for the same
 * question. Between two offset changes it is one calendar search (a few µs); it steps
 * from span to span, at most to `limit`.
 */
export function nextWallFire(cal: WallCalendar, zone: string | null, after: number, limit: number, dst: DstRule): number | null {
  let from = Math.floor(after / 1000) * 1000 + 1000;
  // The first wall-clock match that could be a fire (offsets are within -12 h..+14 h, a
  // day covers them): none, no fire; months ahead, the walk starts a day before it.
  const firstWall = firstWallMatch(cal, from - DAY_MS, limit + DAY_MS);
  if (firstWall === null) return null;
  from = Math.max(from, firstWall - DAY_MS);
  if (from > limit) return null;
  let span = offsetSpan(zone, from);
  const twiceInOverlap = dst === "rule" || cal.hours.length === 24;
  for (;;) {
    let fire: number | null = null;
    let wallFrom = from + span.offset;
    const change = span.since;
    if (change) {
      const shift = span.offset - change.before;
      // A gap ending in this span: its wall times, read at the offset before it.
      if (shift > 0 && dst === "cron" && from < change.at + shift) {
        const gapWall = firstWallMatch(cal, from + change.before, Math.min(change.at + span.offset - 1, limit + change.before));
        if (gapWall !== null) fire = gapWall - change.before;
      }
      // An overlap: the wall times it repeats fired before the change.
      if (shift < 0 && !twiceInOverlap) wallFrom = Math.max(wallFrom, change.at + change.before);
    }
    const last = Math.min(span.until - 1, limit);
    const wall = firstWallMatch(cal, wallFrom, last + span.offset);
    if (wall !== null && (fire === null || wall - span.offset < fire)) fire = wall - span.offset;
    if (fire !== null) return fire;
    if (span.until > limit) return null;
    from = span.until;
    span = offsetSpan(zone, from);
  }
}
