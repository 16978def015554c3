import cronParser from "cron-parser";
import schedule from "node-schedule";
import type { RecurrenceFields, RuleRange, RuleValue, Schedule } from "../types.js";

/**
 * Pure time arithmetic: when a schedule fires next. It is node-schedule's own arithmetic
 * (cron-parser for cron strings, node-schedule's RecurrenceRule for rules), so the times
 * runlet fires at, and those `runlet list --next` prints, are the times node-schedule
 * would fire at; only the timers around it are runlet's (scheduler.ts).
 */
export function nextFire(spec: Schedule, after: Date): Date | null {
  switch (spec.kind) {
    case "cron":
      return nextCron(spec, after);
    case "rule":
      return ruleOf(spec).nextInvocationDate(after);
    case "every":
      return new Date((Math.floor(after.getTime() / spec.everyMs) + 1) * spec.everyMs);
    case "at":
      return spec.at.getTime() > after.getTime() ? spec.at : null;
  }
}

/** The next `count` fires after `after` (fewer when the schedule ends). */
export function nextFires(spec: Schedule, after: Date, count: number): Date[] {
  const fires: Date[] = [];
  for (let at: Date | null = after; fires.length < count && (at = nextFire(spec, at)); ) fires.push(at);
  return fires;
}

/** Identity of a schedule: jobs with equal keys share one timer entry and fire together. */
export function scheduleKey(spec: Schedule): string {
  switch (spec.kind) {
    case "cron":
      return `cron|${spec.cron}|${spec.timezone ?? ""}|${spec.start?.getTime() ?? ""}|${spec.end?.getTime() ?? ""}`;
    case "rule":
      return `rule|${JSON.stringify(spec.rule)}|${spec.timezone ?? ""}`;
    case "every":
      return `every|${spec.everyMs}`;
    case "at":
      return `at|${spec.at.getTime()}`;
  }
}

function nextCron(spec: Extract<Schedule, { kind: "cron" }>, after: Date): Date | null {
  // As node-schedule does for { start, end, rule }: iterate from start, stop after end.
  const from = spec.start && spec.start.getTime() > after.getTime() ? spec.start : after;
  const options: { currentDate: Date; tz?: string } = { currentDate: from };
  if (spec.timezone) options.tz = spec.timezone;
  const next = cronParser.parseExpression(spec.cron, options).next().toDate();
  return spec.end && next.getTime() > spec.end.getTime() ? null : next;
}

// Building a RecurrenceRule costs more than asking it; rules are immutable once validated.
const rules = new WeakMap<Extract<Schedule, { kind: "rule" }>, schedule.RecurrenceRule>();
function ruleOf(spec: Extract<Schedule, { kind: "rule" }>): schedule.RecurrenceRule {
  let rule = rules.get(spec);
  if (!rule) {
    rule = new schedule.RecurrenceRule();
    for (const [field, value] of Object.entries(spec.rule) as Array<[keyof RecurrenceFields, RuleValue]>) {
      (rule as unknown as Record<string, unknown>)[field] = toRecurrence(value);
    }
    if (spec.timezone) rule.tz = spec.timezone;
    rules.set(spec, rule);
  }
  return rule;
}

function toRecurrence(value: RuleValue): schedule.RecurrenceSegment {
  const one = (v: number | RuleRange) => (typeof v === "number" ? v : new schedule.Range(v.start, v.end, v.step ?? 1));
  return (Array.isArray(value) ? value.map(one) : one(value)) as schedule.RecurrenceSegment;
}
