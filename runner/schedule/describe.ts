import cronstrue from "cronstrue";
import type { RecurrenceFields, RuleRange, RuleValue, Schedule } from "../types.js";

/** A schedule in plain English, for `list` and the dashboard. */
export function describeSchedule(spec: Schedule | null): string {
  if (!spec) return "Invoked manually only";
  switch (spec.kind) {
    case "cron":
      return withZone(cronstrue.toString(spec.cron, { use24HourTimeFormat: true, verbose: false }), spec.timezone) + window(spec.start, spec.end);
    case "rule":
      return withZone(describeRule(spec.rule), spec.timezone);
    case "every":
      return describeEvery(spec.everyMs);
    case "at":
      return `Once at ${spec.at.toISOString()}`;
  }
}

function describeEvery(ms: number): string {
  for (const [unit, size] of [["day", 86_400_000], ["hour", 3_600_000], ["minute", 60_000], ["second", 1000]] as const) {
    if (ms % size === 0) return ms === size ? `Every ${unit}` : `Every ${ms / size} ${unit}s`;
  }
  return `Every ${ms} milliseconds`;
}

const MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"];
const DAYS = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"];

function withZone(text: string, zone: string | null): string {
  return zone ? `${text} (${zone})` : text;
}

function window(start: Date | null, end: Date | null): string {
  if (start && end) return `, from ${start.toISOString()} to ${end.toISOString()}`;
  if (start) return `, from ${start.toISOString()}`;
  if (end) return `, until ${end.toISOString()}`;
  return "";
}

/** node-schedule's reading of a rule: fields left out match anything, except second (0). */
function describeRule(rule: RecurrenceFields): string {
  const second = rule.second ?? 0;
  const parts: string[] = [];
  if (typeof rule.hour === "number" && typeof rule.minute === "number" && typeof second === "number") {
    parts.push(`At ${pad(rule.hour)}:${pad(rule.minute)}${second ? `:${pad(second)}` : ""}`);
  } else {
    parts.push(`At ${field(second, "second")}`);
    parts.push(rule.minute === undefined ? "of every minute" : `of ${field(rule.minute, "minute")}`);
    if (rule.hour !== undefined) parts.push(`of ${field(rule.hour, "hour")}`);
  }
  if (rule.dayOfWeek !== undefined) parts.push(`on ${field(rule.dayOfWeek, "day", DAYS)}`);
  if (rule.date !== undefined) parts.push(`on day ${values(rule.date)} of the month`);
  if (rule.month !== undefined) parts.push(`in ${field(rule.month, "month", MONTHS)}`);
  if (rule.year !== undefined) parts.push(`in ${values(rule.year)}`);
  if (rule.dayOfWeek === undefined && rule.date === undefined && rule.month === undefined && rule.year === undefined && rule.hour !== undefined) parts.push("every day");
  return parts.join(" ");
}

function field(value: RuleValue, unit: string, names?: string[]): string {
  const text = values(value, names);
  return names ? text : `${unit} ${text}`;
}

function values(value: RuleValue, names?: string[]): string {
  const one = (v: number | RuleRange) => (typeof v === "number" ? (names?.[v] ?? String(v)) : range(v, names));
  return Array.isArray(value) ? value.map(one).join(", ") : one(value);
}

function range(r: RuleRange, names?: string[]): string {
  const from = names?.[r.start] ?? String(r.start);
  const to = names?.[r.end] ?? String(r.end);
  return r.step && r.step > 1 ? `every ${r.step}${ordinalSuffix(r.step)} from ${from} through ${to}` : `${from} through ${to}`;
}

function ordinalSuffix(n: number): string {
  return n % 10 === 2 && n % 100 !== 12 ? "nd" : n % 10 === 3 && n % 100 !== 13 ? "rd" : "th";
}

function pad(n: number): string {
  return String(n).padStart(2, "0");
}
