import type { RecurrenceFields, RuleRange, Schedule } from "../../runner/contracts/index.js";
import { offsetChanges } from "./fire-oracle.js";
import { seeded } from "./seeded.js";

/**
 * Random schedules to hold runlet's fire times against the oracle (fire-oracle.ts):
 * cron strings (the forms cron-parser 4.9.0 misreads among them), recurrence rules and
 * cron windows, in zones whose DST changes are not one hour on the hour, half of them
 * asked from just before a change.
 */
export const ORACLE_ZONES = [
  "Pacific/Chatham", // 45-minute offsets, changes at 02:45 and 03:45
  "Australia/Lord_Howe", // 30-minute DST
  "Antarctica/Troll", // a 2-hour change
  "Europe/Dublin", // "winter time" is the negative DST of its rules
  "Africa/Casablanca", // clocks set back for Ramadan
  "America/Havana", // changes at midnight
  "America/Santiago",
  "America/New_York",
  "Europe/Berlin",
  "Asia/Kolkata",
  "UTC",
  null,
] as const;

export interface OracleCase {
  schedule: Schedule;
  after: Date;
}

const YEAR_START = Date.UTC(2026, 0, 1);
const YEAR_END = Date.UTC(2028, 0, 1);

export function scheduleCases(seed: number, count: number): OracleCase[] {
  const random = seeded(seed);
  const int = (min: number, max: number) => min + Math.floor(random() * (max - min + 1));
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
  const changes = new Map<string, number[]>();
  const changesOf = (zone: string) => {
    let found = changes.get(zone);
    if (!found) changes.set(zone, (found = offsetChanges(zone, YEAR_START, YEAR_END)));
    return found;
  };
  const when = (zone: string | null): number => {
    const near = zone ? changesOf(zone) : [];
    if (near.length > 0 && random() < 0.5) return pick(near) - int(0, 2 * 86_400) * 1000 - int(0, 999);
    return YEAR_START + int(0, 730 * 86_400) * 1000 + int(0, 999);
  };
  const cases: OracleCase[] = [];
  for (let i = 0; i < count; i++) {
    const zone = pick(ORACLE_ZONES);
    const after = when(zone);
    const kind = random();
    if (kind < 0.6) cases.push({ schedule: { kind: "cron", cron: randomCron(random, int, pick), timezone: zone, start: null, end: null }, after: new Date(after) });
    else if (kind < 0.85) cases.push({ schedule: { kind: "rule", rule: randomRule(random, int, pick), timezone: zone }, after: new Date(after) });
    else {
      const start = after + int(-3, 10) * 3_600_000 + int(0, 59) * 60_000;
      const end = start + int(1, 96) * 3_600_000;
      cases.push({ schedule: { kind: "cron", cron: randomCron(random, int, pick), timezone: zone, start: new Date(start), end: new Date(end) }, after: new Date(after) });
    }
  }
  return cases;
}

type Int = (min: number, max: number) => number;
type Pick = <T>(items: readonly T[]) => T;

function randomCron(random: () => number, int: Int, pick: Pick): string {
  const field = (min: number, max: number, extras: string[] = []): string => {
    const r = random();
    const a = int(min, max);
    const b = int(a, max);
    if (r < 0.3) return "*";
    if (r < 0.4) return `*/${int(1, 7)}`;
    if (r < 0.6) return String(a);
    if (r < 0.7) return `${a}-${b}`;
    if (r < 0.77) return `${a}-${b}/${int(1, 6)}`;
    if (r < 0.82) return `${a}/${int(2, 6)}`;
    if (r < 0.9) return `${a},${b},${int(min, max)}`;
    return extras.length > 0 ? pick(extras) : String(a);
  };
  const seconds = random() < 0.3 ? [pick(["0", "30", "*/20", "15,45", field(0, 59)])] : [];
  // Hours near the DST changes of the zones above, often.
  const hour = random() < 0.6 ? pick(["0", "1", "2", "3", "4", "23", "1,2", "2,3", "1-3", "0-3", "2-4", "*/2", "*", "3"]) : field(0, 23);
  const minute = random() < 0.5 ? pick(["0", "30", "45", "15,45", "0,30", "*/15", "59"]) : field(0, 59);
  const dayOfMonth = field(1, 31, ["L", "1,L", "1-30", "1-31", "1-15,10-25", "*/1,12", "29", "31"]);
  const month = field(1, 12, ["JAN-MAR", "2", "4,6,9,11"]);
  const dayOfWeek = field(0, 7, ["1-7", "0-7", "6-7/6", "6/4", "5#2", "1#5", "5L", "MON-FRI", "0-6", "*/1"]);
  return [...seconds, minute, hour, dayOfMonth, month, dayOfWeek].join(" ");
}

function randomRule(random: () => number, int: Int, pick: Pick): RecurrenceFields {
  const value = (min: number, max: number) => {
    const r = random();
    const a = int(min, max);
    const b = int(a, max);
    if (r < 0.45) return a;
    if (r < 0.65) return [a, int(min, max)];
    if (r < 0.8) return { start: a, end: b } satisfies RuleRange;
    if (r < 0.95) return { start: a, end: b, step: int(1, 5) } satisfies RuleRange;
    return [a, { start: a, end: b, step: int(2, 4) }];
  };
  const rule: RecurrenceFields = {};
  if (random() < 0.2) rule.second = value(0, 59);
  if (random() < 0.85) rule.minute = random() < 0.5 ? pick([0, 30, 45]) : value(0, 59);
  if (random() < 0.8) rule.hour = random() < 0.6 ? pick([0, 1, 2, 3, [1, 2], { start: 1, end: 3 }]) : value(0, 23);
  if (random() < 0.3) rule.date = value(1, 31);
  if (random() < 0.2) rule.month = value(0, 11);
  if (random() < 0.3) rule.dayOfWeek = value(0, 6);
  if (Object.keys(rule).length === 0) rule.minute = 0;
  return rule;
}
