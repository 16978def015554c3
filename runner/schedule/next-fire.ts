import schedule from "node-schedule";
import type { RecurrenceFields, RuleRange, RuleValue, Schedule } from "../contracts/index.js";
import { nextCronFire } from "./cron-next.js";

/**
 * Pure time arithmetic: when a schedule fires next. It is node-schedule's own arithmetic
 * (cron-parser for cron strings, node-schedule's RecurrenceRule for rules), so the times
 * runlet fires at, and those `runlet list --next` prints, are the times node-schedule
 * would fire at; only the timer around it is runlet's (scheduler.ts).
 */
export function nextFire(spec: Schedule, after: Date): Date | null {
  switch (spec.kind) {
    case "cron":
      return nextCronFire(spec, after);
    case "rule":
      // node-schedule asks the rule again from each fire it made (Invocation.js,
      // scheduleNextRecurrence), so the n-th answer from the (n-1)-th is its n-th fire.
      return ruleOf(spec).nextInvocationDate(after);
    case "every":
      return new Date((Math.floor(after.getTime() / spec.everyMs) + 1) * spec.everyMs);
    case "at":
      return spec.at.getTime() > after.getTime() ? new Date(spec.at.getTime()) : null;
  }
}

/** The next `count` fires after `after` (fewer when the schedule ends). */
export function nextFires(spec: Schedule, after: Date, count: number): Date[] {
  const fires: Date[] = [];
  for (let at: Date | null = after; fires.length < count && (at = nextFire(spec, at)); ) fires.push(at);
  return fires;
}

const RULE_FIELDS = ["second", "minute", "hour", "date", "month", "year", "dayOfWeek"] as const satisfies ReadonlyArray<keyof RecurrenceFields>;

/**
 * Identity of a schedule: jobs with equal keys share one timer entry and fire together.
 * Same kind, same spec (cron whitespace and rule key order aside), same zone, same window.
 */
export function scheduleKey(spec: Schedule): string {
  switch (spec.kind) {
    case "cron":
      return `cron|${spec.cron.trim().split(/\s+/).join(" ")}|${spec.timezone ?? ""}|${spec.start?.getTime() ?? ""}|${spec.end?.getTime() ?? ""}`;
    case "rule":
      return `rule|${RULE_FIELDS.map((field) => canonical(spec.rule[field])).join("|")}|${spec.timezone ?? ""}`;
    case "every":
      return `every|${spec.everyMs}`;
    case "at":
      return `at|${spec.at.getTime()}`;
  }
}

function canonical(value: RuleValue | undefined): string {
  if (value === undefined) return "";
  const one = (v: number | RuleRange) => (typeof v === "number" ? String(v) : `${v.start}-${v.end}/${v.step ?? 1}`);
  return Array.isArray(value) ? `[${value.map(one).join(",")}]` : one(value);
}

// Building a RecurrenceRule costs more than asking it; schedules are immutable once validated.
const rules = new WeakMap<Extract<Schedule, { kind: "rule" }>, schedule.RecurrenceRule>();

function ruleOf(spec: Extract<Schedule, { kind: "rule" }>): schedule.RecurrenceRule {
  let rule = rules.get(spec);
  if (!rule) {
    rule = new schedule.RecurrenceRule();
    for (const field of RULE_FIELDS) {
      const value = spec.rule[field];
      if (value !== undefined) (rule as unknown as Record<string, unknown>)[field] = toSegment(value);
    }
    if (spec.timezone) rule.tz = spec.timezone;
    rules.set(spec, rule);
  }
  return rule;
}

/** A rule value as node-schedule takes it: ranges become its own `Range` (whose stepped end is exclusive). */
function toSegment(value: RuleValue): schedule.RecurrenceSegment {
  const one = (v: number | RuleRange) => (typeof v === "number" ? v : new schedule.Range(v.start, v.end, v.step ?? 1));
  return (Array.isArray(value) ? value.map(one) : one(value)) as schedule.RecurrenceSegment;
}
