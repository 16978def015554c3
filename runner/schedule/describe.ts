import cronstrue from "cronstrue";
import type { RecurrenceFields, RuleValue, Schedule } from "../contracts/index.js";
import { ruleValues } from "../fire-times/index.js";

const OPTIONS = { use24HourTimeFormat: true };
const DAYS = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"];

/** A schedule in plain English, for `list` and the dashboard. */
export function describeSchedule(spec: Schedule | null): string {
  if (!spec) return "Invoked manually only";
  switch (spec.kind) {
    case "cron":
      return withZone(describeCron(spec.cron), spec.timezone) + window(spec.start, spec.end);
    case "rule":
      return withZone(describeRule(spec.rule), spec.timezone);
    case "every":
      return describeEvery(spec.everyMs);
    case "at":
      return `Once at ${spec.at.toISOString()}`;
  }
}

/** cronstrue reads 5 fields, or 6 with seconds first (and 7 with a year), as cron-parser does. */
function describeCron(expr: string): string {
  try {
    return cronstrue.toString(expr, OPTIONS);
  } catch (err) {
    // cron-parser (which validated the string) takes a few forms cronstrue's grammar does
    // not; the expression itself is then the most exact reading there is.
    return `Cron "${expr}" (${err instanceof Error ? err.message : String(err)})`;
  }
}

function describeEvery(ms: number): string {
  for (const [unit, size] of [["day", 86_400_000], ["hour", 3_600_000], ["minute", 60_000], ["second", 1000]] as const) {
    if (ms % size === 0) return ms === size ? `Every ${unit}` : `Every ${ms / size} ${unit}s`;
  }
  return `Every ${ms} milliseconds`;
}

function withZone(text: string, zone: string | null): string {
  return zone ? `${text} (${zone})` : text;
}

function window(start: Date | null, end: Date | null): string {
  if (start && end) return `, from ${start.toISOString()} to ${end.toISOString()}`;
  if (start) return `, from ${start.toISOString()}`;
  if (end) return `, until ${end.toISOString()}`;
  return "";
}

/**
 * A rule reads like the cron it equals, so both spellings of a schedule read alike. Two
 * differences are spelled out: a rule's date and weekday must both match (cron: either),
 * and a bare time gets "every day".
 */
function describeRule(rule: RecurrenceFields): string {
  try {
    return describeRuleAsCron(rule);
  } catch (err) {
    // Only a rule no cron can say (a field with no value in range) gets here: show it as written.
    return `Recurrence rule ${JSON.stringify(rule)} (${err instanceof Error ? err.message : String(err)})`;
  }
}

function describeRuleAsCron(rule: RecurrenceFields): string {
  const both = rule.date !== undefined && rule.dayOfWeek !== undefined;
  const fields = [
    cronField(rule.second ?? 0, 0, 59), // node-schedule's default second is 0, not "every"
    cronField(rule.minute, 0, 59),
    cronField(rule.hour, 0, 23),
    cronField(rule.date, 1, 31),
    cronField(rule.month, 0, 11, 1),
    both ? "*" : cronField(rule.dayOfWeek, 0, 6),
  ];
  if (rule.year !== undefined) fields.push(cronField(rule.year, 1970, 2199));
  let text = cronstrue.toString(fields.join(" "), OPTIONS);
  if (both) text += `, if that day is a ${values(rule.dayOfWeek, 0, 6).map((d) => DAYS[d]).join(" or ")}`;
  return /^At \d\d:\d\d(:\d\d)?$/.test(text) ? `${text} every day` : text;
}

/** A rule field as a cron field, its values read as the schedule reads them (a stepped range's end is exclusive). */
function cronField(value: RuleValue | undefined, min: number, max: number, shift = 0): string {
  if (value === undefined) return "*";
  const all = values(value, min, max);
  if (all.length === max - min + 1) return "*";
  const step = all.length > 2 ? all[1]! - all[0]! : 0;
  const progression = step > 1 && all.every((v, i) => v === all[0]! + i * step);
  if (progression && all[0] === min && all.at(-1)! + step > max) return `*/${step}`;
  if (progression) return `${all[0]! + shift}-${all.at(-1)! + shift}/${step}`;
  return runs(all.map((v) => v + shift));
}

function values(value: RuleValue | undefined, min: number, max: number): number[] {
  return value === undefined ? [] : ruleValues(value, min, max);
}

/** Sorted values as cron list items: runs of three or more as ranges. */
function runs(sorted: number[]): string {
  const items: string[] = [];
  for (let i = 0; i < sorted.length; ) {
    let j = i;
    while (j + 1 < sorted.length && sorted[j + 1] === sorted[j]! + 1) j++;
    if (j - i >= 2) items.push(`${sorted[i]}-${sorted[j]}`);
    else for (let k = i; k <= j; k++) items.push(String(sorted[k]));
    i = j + 1;
  }
  return items.join(",");
}
