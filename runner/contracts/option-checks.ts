import { RunletError } from "../errors.js";

/** What one option may be. */
export type OptionRule = "ms" | "positive-int" | "boolean" | "string" | "function" | "object" | "url" | "nice";

const ALLOWED: Record<OptionRule, string> = {
  ms: "a number of milliseconds, 0 or more",
  "positive-int": "a whole number, 1 or more",
  boolean: "true or false",
  string: "a non-empty string",
  function: "a function",
  object: "an object",
  url: "a URL",
  nice: "a whole number from 0 to 19 (a Linux nice increment)",
};

function fits(rule: OptionRule, value: unknown): boolean {
  switch (rule) {
    case "ms":
      return typeof value === "number" && Number.isFinite(value) && value >= 0;
    case "positive-int":
      return typeof value === "number" && Number.isInteger(value) && value >= 1;
    case "boolean":
      return typeof value === "boolean";
    case "string":
      return typeof value === "string" && value.length > 0;
    case "function":
      return typeof value === "function";
    case "object":
      return typeof value === "object" && value !== null;
    case "url":
      return value instanceof URL;
    case "nice":
      return typeof value === "number" && Number.isInteger(value) && value >= 0 && value <= 19;
  }
}

function shown(value: unknown): string {
  if (typeof value === "string") return JSON.stringify(value);
  if (typeof value === "function") return "a function";
  if (value === null || typeof value !== "object") return String(value);
  return Array.isArray(value) ? "an array" : "an object";
}

/**
 * Checks a component's options when it is made: every option given (not undefined) fits
 * its rule, and no option is unknown (a typo would otherwise be silently ignored). Throws
 * one RunletError OPTION_INVALID naming every problem: the option, the value, what is allowed.
 * `required` options must be given.
 */
export function checkOptions(component: string, options: object, rules: Record<string, OptionRule>, required: readonly string[] = []): void {
  const problems: string[] = [];
  for (const [key, value] of Object.entries(options)) {
    const rule = rules[key];
    if (!rule) problems.push(`${component} has no option "${key}"; its options are ${Object.keys(rules).join(", ")}`);
    else if (value !== undefined && !fits(rule, value)) problems.push(`${component}.${key} must be ${ALLOWED[rule]} (got ${shown(value)})`);
  }
  for (const key of required) {
    if ((options as Record<string, unknown>)[key] === undefined) problems.push(`${component}.${key} is required: ${ALLOWED[rules[key]!]}`);
  }
  if (problems.length > 0) throw new RunletError("OPTION_INVALID", problems.join("\n"));
}
