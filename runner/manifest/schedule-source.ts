import type { RecurrenceFields, RuleRange, RuleValue, Schedule } from "../contracts/index.js";
import { FIRE_HORIZON_YEARS, firesAfter } from "../fire-times/index.js";
import { checkCron } from "./cron-fields.js";
import { DURATION_EXPECTED, parseDuration } from "./duration.js";
import { shown, type Report } from "./report.js";
import { isValidTimeZone } from "./timezone.js";
import type { ValuePath } from "./yaml-source.js";

const RULE_FIELDS = {
  second: [0, 59],
  minute: [0, 59],
  hour: [0, 23],
  date: [1, 31],
  month: [0, 11],
  year: [1970, 9999],
  dayOfWeek: [0, 6],
} as const satisfies Record<keyof RecurrenceFields, readonly [number, number]>;
type RuleField = keyof typeof RULE_FIELDS;

/** The keys each schedule form takes besides its own. */
const FORM_KEYS = {
  cron: ["cron", "timezone", "start", "end"],
  every: ["every"],
  at: ["at"],
  rule: [...Object.keys(RULE_FIELDS), "timezone"],
} as const;
type Form = keyof typeof FORM_KEYS;

const ISO_DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})$/;

/**
 * Schedules already read in this load: crons by zone and text, intervals by duration. A
 * million jobs share a few distinct ones: each cron is checked (its fields, a fire ahead)
 * once, and jobs with the same schedule share one Schedule object, which nothing changes
 * after the load.
 */
export class ScheduleCache {
  private readonly crons = new Map<string | null, Map<string, Schedule>>();
  private readonly intervals = new Map<unknown, Schedule>();

  /** The schedule `raw` reads as when it was read before in this load, else undefined. */
  known(raw: unknown, zone: string | null): Schedule | undefined {
    if (typeof raw === "string") return this.crons.get(zone)?.get(raw);
    // `{ every: 5m }` alone (no other key, which would be a problem to report).
    if (raw !== null && typeof raw === "object" && "every" in raw) {
      const known = this.intervals.get((raw as { every: unknown }).every);
      if (known && hasOnlyKey(raw, "every")) return known;
    }
    return undefined;
  }

  keep(raw: unknown, zone: string | null, schedule: Schedule): void {
    if (typeof raw === "string") {
      let byText = this.crons.get(zone);
      if (!byText) this.crons.set(zone, (byText = new Map()));
      byText.set(raw, schedule);
    } else if (schedule.kind === "every") {
      this.intervals.set((raw as { every: unknown }).every, schedule);
    }
  }
}

function hasOnlyKey(map: object, key: string): boolean {
  for (const k in map) if (k !== key) return false;
  return true;
}

/**
 * Reads a job's `schedule` (every form of DESIGN.md) into the one internal form, reporting
 * each problem at the key, value or cron field that has it. `null`: invoke-only, or invalid.
 */
export function readSchedule(raw: unknown, path: ValuePath, report: Report, jobZone: string | null, cache?: ScheduleCache): Schedule | null {
  if (raw === undefined || raw === null) return null;
  if (typeof raw === "string") {
    const schedule = readCron(raw, path, report) ? firing({ kind: "cron", cron: raw.trim(), timezone: jobZone, start: null, end: null }, path, report) : null;
    // Only a good one is kept: a bad one is reported again at each job that has it.
    if (schedule) cache?.keep(raw, jobZone, schedule);
    return schedule;
  }
  if (typeof raw !== "object" || Array.isArray(raw)) {
    report.at(path, `must be a cron string or a map ({ cron }, { every }, { at } or recurrence-rule fields) (got ${shown(raw)})`);
    return null;
  }
  const spec = raw as Record<string, unknown>;
  const keys = Object.keys(spec);
  const forms = (["cron", "every", "at"] as const).filter((k) => keys.includes(k)) as Form[];
  if (keys.some((k) => Object.hasOwn(RULE_FIELDS, k))) forms.push("rule");
  if (forms.length !== 1) {
    const got = forms.length === 0 ? `keys ${keys.map((k) => `'${k}'`).join(", ") || "none"}` : forms.join(" and ");
    report.at(path, `must have exactly one of cron, every, at, or recurrence-rule fields (second, minute, hour, date, month, year, dayOfWeek) (got ${got})`);
    return null;
  }
  const form = forms[0]!;
  let ok = true;
  for (const key of keys) {
    if (!(FORM_KEYS[form] as readonly string[]).includes(key)) {
      report.at([...path, key], `is not a key of a ${form === "rule" ? "recurrence rule" : `{ ${form} } schedule`}; supported keys are: ${FORM_KEYS[form].join(", ")}`, "key");
      ok = false;
    }
  }
  const zone = spec.timezone === undefined ? jobZone : readZone(spec.timezone, [...path, "timezone"], report);
  if (spec.timezone !== undefined && zone === null) ok = false;

  switch (form) {
    case "cron": {
      const cronOk = typeof spec.cron === "string" ? readCron(spec.cron, [...path, "cron"], report) : typeError([...path, "cron"], "a cron string", spec.cron, report);
      const start = spec.start === undefined ? null : readDate(spec.start, [...path, "start"], report);
      const end = spec.end === undefined ? null : readDate(spec.end, [...path, "end"], report);
      if (start && end && start >= end) {
        report.at([...path, "end"], `must be after start (${start.toISOString()})`);
        ok = false;
      }
      if (!cronOk || (spec.start !== undefined && !start) || (spec.end !== undefined && !end) || !ok) return null;
      return firing({ kind: "cron", cron: (spec.cron as string).trim(), timezone: zone, start, end }, path, report);
    }
    case "every": {
      const ms = parseDuration(spec.every);
      if (ms === null || ms <= 0) {
        report.at([...path, "every"], `must be ${DURATION_EXPECTED}, greater than 0 (got ${shown(spec.every)})`);
        return null;
      }
      if (!ok) return null;
      const schedule: Schedule = { kind: "every", everyMs: ms };
      if (keys.length === 1) cache?.keep(raw, jobZone, schedule);
      return schedule;
    }
    case "at": {
      const at = readDate(spec.at, [...path, "at"], report);
      return at && ok ? { kind: "at", at } : null;
    }
    case "rule": {
      const rule: RecurrenceFields = {};
      for (const field of Object.keys(RULE_FIELDS) as RuleField[]) {
        if (spec[field] === undefined) continue;
        const value = readRuleValue(spec[field], [...path, field], field, report);
        if (value === null) ok = false;
        else rule[field] = value;
      }
      return ok ? firing({ kind: "rule", rule, timezone: zone }, path, report) : null;
    }
  }
}

/**
 * The schedule, or null when it has no fire from now on within the reach runlet looks
 * ahead: a rule no day matches (`{ month: [3, 5], date: 31 }`), a range with nothing in
 * it (`{ start: 5, end: 5, step: 2 }`), a cron window with no fire in it. Reported here,
 * such a schedule would otherwise be scheduled and never run, without a word.
 */
function firing(schedule: Schedule, path: ValuePath, report: Report): Schedule | null {
  const now = new Date();
  if (firesAfter(schedule, now)) return schedule;
  if (schedule.kind === "cron" && schedule.end && schedule.end <= now) {
    report.at(path, `has no fire left: its window ended at ${schedule.end.toISOString()}`);
  } else if (schedule.kind === "cron" && schedule.end) {
    const from = schedule.start && schedule.start > now ? schedule.start : now;
    report.at(path, `never fires: the cron has no fire between ${from.toISOString()} and ${schedule.end.toISOString()}`);
  } else {
    report.at(path, `never fires: no fire in the next ${FIRE_HORIZON_YEARS} years`);
  }
  return null;
}

/** Reports a bad zone and returns null, or returns the zone. */
export function readZone(raw: unknown, path: ValuePath, report: Report): string | null {
  if (typeof raw === "string" && isValidTimeZone(raw)) return raw;
  report.at(path, `must be an IANA time-zone name such as UTC or Europe/Berlin (got ${shown(raw)})`);
  return null;
}

function readCron(expr: string, path: ValuePath, report: Report): boolean {
  const issues = checkCron(expr);
  for (const issue of issues) report.inScalar(path, issue.offset, issue.message);
  return issues.length === 0;
}

function readDate(raw: unknown, path: ValuePath, report: Report): Date | null {
  const date = raw instanceof Date ? raw : typeof raw === "string" && ISO_DATE_TIME.test(raw) ? new Date(raw) : null;
  if (date && !Number.isNaN(date.getTime()) && (raw instanceof Date || sameCalendarDate(raw as string, date))) return date;
  report.at(path, `must be an ISO 8601 date-time with a zone, like 2027-01-01T09:00:00Z (got ${shown(raw)})`);
  return null;
}

/** `new Date("2026-02-30T00:00:00Z")` rolls over to March; a date that rolled is invalid. */
function sameCalendarDate(text: string, date: Date): boolean {
  const [y, m, d] = text.slice(0, 10).split("-").map(Number);
  if (m! < 1 || m! > 12 || d! < 1 || d! > 31) return false;
  const probe = new Date(Date.UTC(y!, m! - 1, d!));
  return probe.getUTCMonth() === m! - 1 && probe.getUTCDate() === d;
}

function readRuleValue(raw: unknown, path: ValuePath, field: RuleField, report: Report): RuleValue | null {
  if (Array.isArray(raw)) {
    if (raw.length === 0) {
      report.at(path, "must not be an empty list");
      return null;
    }
    const items = raw.map((item, i) => readRuleItem(item, [...path, i], field, report));
    return items.every((i) => i !== null) ? (items as Array<number | RuleRange>) : null;
  }
  return readRuleItem(raw, path, field, report);
}

function readRuleItem(raw: unknown, path: ValuePath, field: RuleField, report: Report): number | RuleRange | null {
  const [min, max] = RULE_FIELDS[field];
  const inRange = (value: unknown, at: ValuePath): value is number => {
    if (Number.isInteger(value) && (value as number) >= min && (value as number) <= max) return true;
    report.at(at, `must be a whole number ${min}-${max} (got ${shown(value)})`);
    return false;
  };
  if (typeof raw !== "object" || raw === null) return inRange(raw, path) ? raw : null;
  const range = raw as Record<string, unknown>;
  let ok = true;
  for (const key of Object.keys(range)) {
    if (!["start", "end", "step"].includes(key)) {
      report.at([...path, key], "is not a key of a range; supported keys are: start, end, step", "key");
      ok = false;
    }
  }
  if (range.start === undefined || range.end === undefined) {
    report.at(path, `must be a number ${min}-${max}, a list, or a range { start, end, step? } (got a map without ${range.start === undefined ? "start" : "end"})`);
    return null;
  }
  ok = inRange(range.start, [...path, "start"]) && ok;
  ok = inRange(range.end, [...path, "end"]) && ok;
  if (range.step !== undefined && !(Number.isInteger(range.step) && (range.step as number) >= 1)) {
    report.at([...path, "step"], `must be a whole number of at least 1 (got ${shown(range.step)})`);
    ok = false;
  }
  if (ok && (range.start as number) > (range.end as number)) {
    report.at(path, `range starts after it ends (start ${range.start}, end ${range.end})`);
    ok = false;
  }
  if (!ok) return null;
  return range.step === undefined ? { start: range.start as number, end: range.end as number } : { start: range.start as number, end: range.end as number, step: range.step as number };
}

function typeError(path: ValuePath, expected: string, got: unknown, report: Report): false {
  report.at(path, `must be ${expected} (got ${shown(got)})`);
  return false;
}
