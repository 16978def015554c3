/**
 * A class job's schedule as node-schedule takes it (what `getSpec()` returns), read into
 * runlet's own {@link Schedule} so `list` and the dashboard can describe it and show its
 * next fires beside manifest jobs. node-schedule itself still does the firing: this reading
 * is for display only, and a spec it cannot read is shown as written.
 */
import schedule from "node-schedule";
import type { RecurrenceFields, RuleRange, RuleValue, Schedule } from "../contracts/index.js";

/** What `getSpec()` may return: everything node-schedule's `scheduleJob` accepts. */
export type JobSpec = schedule.Spec;

export interface SpecReading {
  /** `null` when the spec is not one runlet can describe (it is still scheduled). */
  schedule: Schedule | null;
  /** The spec as plain JSON data (a RecurrenceRule's fields, ranges as `{ start, end, step }`). */
  source: unknown;
}

const RULE_FIELDS = ["second", "minute", "hour", "date", "month", "year", "dayOfWeek"] as const;

export function readSpec(spec: JobSpec): SpecReading {
  if (typeof spec === "string") {
    return { schedule: { kind: "cron", cron: spec, timezone: null, start: null, end: null }, source: spec };
  }
  if (typeof spec === "number" || spec instanceof Date) {
    const at = new Date(spec);
    return { schedule: Number.isNaN(at.getTime()) ? null : { kind: "at", at }, source: Number.isNaN(at.getTime()) ? String(spec) : at.toISOString() };
  }
  const tz = typeof spec.tz === "string" ? spec.tz : null;
  if ("rule" in spec && typeof spec.rule === "string") {
    const start = spec.start === undefined ? null : new Date(spec.start);
    const end = spec.end === undefined ? null : new Date(spec.end);
    return {
      schedule: { kind: "cron", cron: spec.rule, timezone: tz, start, end },
      source: { rule: spec.rule, ...(start ? { start: start.toISOString() } : {}), ...(end ? { end: end.toISOString() } : {}), ...(tz ? { tz } : {}) },
    };
  }
  if ("rule" in spec) {
    // node-schedule also takes a RecurrenceRule as `rule` (its types say only a string).
    const inner = readSpec(spec.rule as JobSpec);
    return inner.schedule?.kind === "rule" ? { schedule: { ...inner.schedule, timezone: tz ?? inner.schedule.timezone }, source: inner.source } : inner;
  }
  // An object literal becomes a RecurrenceRule whose `second` is 0 unless the literal names it.
  const fields: Record<string, unknown> = spec instanceof schedule.RecurrenceRule || "second" in spec ? { ...spec } : { ...spec, second: 0 };
  const rule: RecurrenceFields = {};
  for (const field of RULE_FIELDS) {
    const value = ruleValue(fields[field]);
    if (value === undefined) return { schedule: null, source: String(spec) };
    if (value !== null) rule[field] = value;
  }
  return { schedule: { kind: "rule", rule, timezone: tz }, source: { ...rule, ...(tz ? { tz } : {}) } };
}

/** A rule field: `null` for "any", `undefined` when it is not something runlet reads (a string field). */
function ruleValue(value: unknown): RuleValue | null | undefined {
  if (value === null || value === undefined) return null;
  if (typeof value === "number") return value;
  if (value instanceof schedule.Range) return range(value);
  if (Array.isArray(value)) {
    const items = value.map((v) => (typeof v === "number" ? v : v instanceof schedule.Range ? range(v) : undefined));
    return items.every((v) => v !== undefined) ? (items as Array<number | RuleRange>) : undefined;
  }
  return undefined;
}

function range(r: schedule.Range): RuleRange {
  // @types/node-schedule does not declare Range's fields; node-schedule 2.1.1 sets all three.
  const { start, end, step } = r as unknown as { start: number; end: number; step: number };
  return step === 1 ? { start, end } : { start, end, step };
}
