import cronParser from "cron-parser";
import { readCron } from "../fire-times/index.js";

/** A problem inside a cron string; `offset` is the character where the bad field starts. */
export interface CronIssue {
  offset: number;
  message: string;
}

interface FieldSpec {
  name: string;
  min: number;
  max: number;
  names?: readonly string[];
  /** Characters of cron-parser's extensions allowed in this field. */
  special?: "dom" | "dow";
}

const MONTHS = ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"] as const;
const DAYS = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"] as const;

const SECOND: FieldSpec = { name: "second", min: 0, max: 59 };
const FIVE_FIELDS: FieldSpec[] = [
  { name: "minute", min: 0, max: 59 },
  { name: "hour", min: 0, max: 23 },
  { name: "day of month", min: 1, max: 31, special: "dom" },
  { name: "month", min: 1, max: 12, names: MONTHS },
  { name: "day of week", min: 0, max: 7, names: DAYS, special: "dow" },
];

/**
 * Checks a cron string field by field, so a mistake is reported at the field that has it
 * with the range that field takes. node-schedule itself would silently turn a bad string
 * into `null` (or, for a lone number like "2030", into a one-off date).
 */
export function checkCron(expr: string): CronIssue[] {
  // Large manifests repeat the same few cron strings; checking is pure, so remember answers.
  let issues = checked.get(expr);
  if (!issues) {
    if (checked.size >= 10_000) checked.clear();
    checked.set(expr, (issues = checkCronUncached(expr)));
  }
  return issues;
}

const checked = new Map<string, CronIssue[]>();

function checkCronUncached(expr: string): CronIssue[] {
  const fields = [...expr.matchAll(/\S+/g)].map((m) => ({ text: m[0], offset: m.index }));
  if (fields.length !== 5 && fields.length !== 6) {
    return [{ offset: 0, message: `cron must have 5 fields (minute hour day-of-month month day-of-week) or 6 (seconds first) (got ${fields.length} in "${expr}")` }];
  }
  const specs = fields.length === 6 ? [SECOND, ...FIVE_FIELDS] : FIVE_FIELDS;
  const issues = fields.flatMap((field, i) => checkField(field.text, specs[i]!).map((message) => ({ offset: field.offset, message })));
  if (issues.length > 0) return issues;
  try {
    cronParser.parseExpression(expr);
  } catch (err) {
    // Anything the field rules above let through but the engine refuses.
    return [{ offset: 0, message: `cron "${expr}" is not valid: ${(err as Error).message}` }];
  }
  try {
    readCron(expr);
  } catch (err) {
    return [{ offset: 0, message: (err as Error).message }];
  }
  return [];
}

function checkField(text: string, spec: FieldSpec): string[] {
  const problems: string[] = [];
  for (const part of text.split(",")) {
    const problem = checkPart(part, spec);
    if (problem) problems.push(`cron ${spec.name} field "${text}": ${problem}`);
  }
  return problems.slice(0, 1);
}

function checkPart(part: string, spec: FieldSpec): string | null {
  if (part === "") return "empty list item";
  if (spec.special && part === "?") return null;
  if (spec.special === "dom" && part === "L") return null;
  if (spec.special === "dow" && part.toUpperCase() === "L") return `a bare "L" is not a day of week; for the last Friday of the month write "5L"`;
  if (spec.special === "dom" && /^([0-9]+)W$/i.test(part)) return `"${part}" (the weekday nearest a day) is not supported; list the days instead`;
  // cron-parser reads "7/2" as Sunday, Tuesday...; croner as nothing; cronstrue as "0/2". Ask for the one reading.
  if (spec.special === "dow" && /^(7|SUN)\/[0-9]+$/i.test(part)) return `"${part}" steps from Sunday written as 7: write "0/${part.split("/")[1]}"`;
  if (spec.special === "dow" && /^[0-9A-Z]+L$/i.test(part)) return checkValue(part.slice(0, -1), spec);
  if (spec.special === "dow" && /^[0-9A-Z]+#[0-9]+$/i.test(part)) {
    const [day, nth] = part.split("#");
    return checkValue(day!, spec) ?? (Number(nth) >= 1 && Number(nth) <= 5 ? null : `occurrence after # must be 1-5 (got ${nth})`);
  }
  const [range, step, extra] = part.split("/");
  if (extra !== undefined) return `"${part}" has more than one "/"`;
  if (step !== undefined) {
    if (!/^[0-9]+$/.test(step)) return `step must be a whole number (got "${step}")`;
    if (Number(step) === 0) return "step must be at least 1 (got 0)";
    if (Number(step) > spec.max - spec.min + 1) return `step ${step} is larger than the field's range ${spec.min}-${spec.max}`;
  }
  if (range === "*") return null;
  const bounds = range!.split("-");
  if (bounds.length > 2) return `"${range}" is not a value or a range a-b`;
  for (const bound of bounds) {
    const problem = checkValue(bound, spec);
    if (problem) return problem;
  }
  if (bounds.length === 2) {
    const [from, to] = bounds.map((b) => toNumber(b, spec));
    if (from! > to!) return `range ${range} starts after it ends`;
  }
  return null;
}

function checkValue(value: string, spec: FieldSpec): string | null {
  const expected = `${spec.min}-${spec.max}${spec.names ? ` or ${spec.names[0]}-${spec.names[spec.names.length - 1]}` : ""}`;
  const n = toNumber(value, spec);
  if (n === null) return `"${value}" is not a number (expected ${expected})`;
  if (n < spec.min || n > spec.max) return `${value} is out of range (expected ${expected})`;
  return null;
}

function toNumber(value: string, spec: FieldSpec): number | null {
  if (/^[0-9]+$/.test(value)) return Number(value);
  const index = spec.names?.indexOf(value.toUpperCase() as never) ?? -1;
  if (index < 0) return null;
  return spec.names === MONTHS ? index + 1 : index;
}
