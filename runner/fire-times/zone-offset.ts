/**
 * UTC offsets of a time zone and the instants they change (daylight saving time and the
 * like). The fire search (zone-walk.ts) does its arithmetic on wall-clock time at one
 * fixed offset; this file tells it where that is safe (between two transitions) and
 * what the change that began a span did (a gap or an overlap).
 *
 * `zone` is an IANA name, or `null` for the process's own zone, as in {@link Schedule}.
 */

/** The offset at an instant, and how long it holds. */
export interface OffsetSpan {
  /** Wall clock = UTC + offset, in ms. */
  offset: number;
  /** The offset is the same at every instant from the one asked about up to (not including) this. */
  until: number;
  /** Whether the offset changes at `until` (false: `until` is only as far as the tables reach). */
  changes: boolean;
  /** The change that began this offset, and the offset before it; null if none in the tables' reach back. */
  since: { at: number; before: number } | null;
}

/** Spans never reach past the end of the calendar year this many years after the one asked about. */
const YEARS_AHEAD = 2;
/**
 * Offsets are sampled this far apart, then each change is narrowed to the millisecond.
 * Two transitions closer than this would be missed; tzdata has none in modern times
 * (the closest pairs are weeks apart), and 6 h keeps a zone-year at ~1,500 samples (~2 ms).
 */
const SAMPLE_MS = 6 * 3_600_000;

/** One zone's year: the offset on January 1 (UTC), then each transition and the offset after it. */
interface YearTable {
  startOffset: number;
  times: number[];
  offsets: number[];
}

const formatters = new Map<string, Intl.DateTimeFormat>();
// The process zone is cached under "" at first use: runlet does not change TZ while running.
const tables = new Map<string, YearTable>();

export function offsetSpan(zone: string | null, ts: number): OffsetSpan {
  const year = new Date(ts).getUTCFullYear();
  const table = yearTable(zone, year);
  let i = table.times.length - 1;
  while (i >= 0 && table.times[i]! > ts) i--;
  const offset = i < 0 ? table.startOffset : table.offsets[i]!;
  const since = i >= 0 ? { at: table.times[i]!, before: i > 0 ? table.offsets[i - 1]! : table.startOffset } : lastChangeBefore(zone, year);
  const later = table.times[i + 1];
  if (later !== undefined) return { offset, until: later, changes: true, since };
  for (let y = year + 1; y <= year + YEARS_AHEAD; y++) {
    const first = yearTable(zone, y).times[0];
    if (first !== undefined) return { offset, until: first, changes: true, since };
  }
  return { offset, until: Date.UTC(year + YEARS_AHEAD + 1, 0, 1), changes: false, since };
}

/** The last change in the years before `year` (as far back as the tables reach ahead). */
function lastChangeBefore(zone: string | null, year: number): OffsetSpan["since"] {
  for (let y = year - 1; y >= year - YEARS_AHEAD; y--) {
    const table = yearTable(zone, y);
    const n = table.times.length;
    if (n > 0) return { at: table.times[n - 1]!, before: n > 1 ? table.offsets[n - 2]! : table.startOffset };
  }
  return null;
}

/** The zone's offset from UTC at `ts`, in ms, read from the platform (Intl or Date). */
export function offsetAt(zone: string | null, ts: number): number {
  if (zone === null) return 0 - new Date(ts).getTimezoneOffset() * 60_000; // 0 - 0 is 0, not -0
  const text = formatter(zone).format(ts);
  const m = /(\d+)\/(\d+)\/(\d+),? (\d+):(\d+):(\d+)/.exec(text);
  if (!m) throw new Error(`Intl formatted a date in time zone ${zone} as "${text}", expected M/D/YYYY, HH:MM:SS`);
  const wall = Date.UTC(Number(m[3]), Number(m[1]) - 1, Number(m[2]), Number(m[4]), Number(m[5]), Number(m[6]));
  return wall - Math.floor(ts / 1000) * 1000;
}

function yearTable(zone: string | null, year: number): YearTable {
  const key = `${zone ?? ""}|${year}`;
  let table = tables.get(key);
  if (table) return table;
  const end = Date.UTC(year + 1, 0, 1);
  let at = Date.UTC(year, 0, 1);
  let offset = offsetAt(zone, at);
  table = { startOffset: offset, times: [], offsets: [] };
  while (at < end) {
    const next = Math.min(at + SAMPLE_MS, end);
    const nextOffset = offsetAt(zone, next);
    if (nextOffset !== offset) {
      // A change exactly at `end` stays here too: the next year's table starts after it.
      table.times.push(firstChange(zone, at, next, offset));
      table.offsets.push(nextOffset);
    }
    at = next;
    offset = nextOffset;
  }
  tables.set(key, table);
  return table;
}

/** The first instant in (from, to] whose offset differs from `offset` (the offset at `from`). */
function firstChange(zone: string | null, from: number, to: number, offset: number): number {
  let lo = from;
  let hi = to;
  while (hi - lo > 1) {
    const mid = lo + Math.floor((hi - lo) / 2);
    if (offsetAt(zone, mid) === offset) lo = mid;
    else hi = mid;
  }
  return hi;
}

function formatter(zone: string): Intl.DateTimeFormat {
  let f = formatters.get(zone);
  if (!f) {
    f = new Intl.DateTimeFormat("en-US", { timeZone: zone, hourCycle: "h23", year: "numeric", month: "numeric", day: "numeric", hour: "numeric", minute: "numeric", second: "numeric" });
    formatters.set(zone, f);
  }
  return f;
}
