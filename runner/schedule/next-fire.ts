import type { RecurrenceFields, RuleRange, RuleValue, Schedule } from "../contracts/index.js";

export { nextFire, nextFires } from "../fire-times/index.js";

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
