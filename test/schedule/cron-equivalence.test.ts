import cronParser from "cron-parser";
import { expect, test } from "vitest";
import { nextFires } from "../../runner/schedule/index.js";
import { seeded } from "../support/seeded.js";

/**
 * runlet's fire times against what node-schedule runs (one cron-parser iterator per job,
 * asked `next()` fire after fire), where cron-parser reads the string right and the zone
 * moves its clocks by one hour on the hour: there runlet keeps to node-schedule. Random
 * cron strings; half of them start just before a DST change. Where they part
 * (docs/schedules.md): crons with both day fields restricted, weekday steps, and zones
 * with other changes; the oracle test (fire-oracle.test.ts) covers those.
 */
const ZONES = [null, "UTC", "Europe/Berlin", "America/New_York", "Asia/Kolkata", "Asia/Tokyo", "America/Sao_Paulo"];
/** 2026's DST changes. */
const CHANGES: Record<string, string[]> = {
  "America/New_York": ["2026-03-08", "2026-11-01"],
  "Europe/Berlin": ["2026-03-29", "2026-10-25"],
};
const CASES = 400;
const FIRES = 6;

test(`${CASES} random cron strings give node-schedule's ${FIRES} next fires in their zone`, () => {
  const random = seeded(20260308);
  const pick = <T>(items: T[]): T => items[Math.floor(random() * items.length)]!;
  const field = (min: number, max: number, extras: string[] = []): string => {
    const r = random();
    const a = min + Math.floor(random() * (max - min + 1));
    const b = a + Math.floor(random() * (max - a + 1));
    if (r < 0.3) return "*";
    if (r < 0.45) return `*/${1 + Math.floor(random() * 7)}`;
    if (r < 0.65) return String(a);
    if (r < 0.75) return `${a}-${b}`;
    if (r < 0.82) return `${a}-${b}/${1 + Math.floor(random() * 3)}`;
    if (r < 0.92) return a === b ? String(a) : `${a},${b}`;
    return extras.length > 0 ? pick(extras) : String(a);
  };
  const mismatches: string[] = [];
  let compared = 0;
  for (let i = 0; i < CASES; i++) {
    const seconds = random() < 0.4 ? [field(0, 59)] : [];
    let zone: string | null;
    let days: string[];
    let hours: string;
    let from: number;
    if (i % 2 === 0) {
      // Across a DST change: daily-ish, hours around it, starting up to two days before it.
      zone = pick(Object.keys(CHANGES));
      from = Date.parse(`${pick(CHANGES[zone]!)}T00:00:00Z`) - Math.floor(random() * 2 * 86_400_000);
      days = random() < 0.7 ? ["*", "*", "*"] : [field(1, 31, ["L"]), "*", field(0, 7, ["MON-FRI", "0#1"])];
      hours = random() < 0.7 ? pick(["0", "1", "2", "3", "4", "23", "1,2", "2,3", "1-3", "0-2", "2-4", "1,3", "0,2,4", "*/2", "*"]) : field(0, 23);
    } else {
      zone = pick(ZONES);
      from = Date.UTC(2025, 0, 1) + Math.floor(random() * 3 * 365 * 86_400_000);
      days = [field(1, 31, ["L", "1,L"]), field(1, 12, ["JAN-MAR"]), field(0, 7, ["5L", "1#2", "0#5", "MON-FRI"])];
      hours = field(0, 23);
    }
    const expr = [...seconds, field(0, 59), hours, ...days].join(" ");
    // Forms cron-parser 4.9.0 misreads (docs/schedules.md): both day fields restricted, a weekday step.
    const [dom, , dow] = days;
    if ((!["*", "?"].includes(dom!) && !["*", "?"].includes(dow!)) || /^\d.*\//.test(dow!)) continue;
    const start = new Date(from + (random() < 0.5 ? 0 : Math.floor(random() * 1000)));
    const expected = iteratorFires(expr, zone, start);
    if (!expected) continue; // a string cron-parser refuses (the manifest stage would too)
    compared++;
    const ours = nextFires({ kind: "cron", cron: expr, timezone: zone, start: null, end: null }, start, FIRES).map((d) => d.toISOString());
    if (JSON.stringify(ours) !== JSON.stringify(expected)) mismatches.push(`${expr} in ${zone} from ${start.toISOString()}: got ${ours.join(" ")}; node-schedule ${expected.join(" ")}`);
  }
  expect(compared).toBeGreaterThan(CASES * 0.5);
  expect(mismatches).toEqual([]);
}, 120_000);

function iteratorFires(expr: string, zone: string | null, from: Date): string[] | null {
  let iterator;
  try {
    iterator = cronParser.parseExpression(expr, { currentDate: from, ...(zone ? { tz: zone } : {}) });
  } catch {
    return null;
  }
  const fires: string[] = [];
  try {
    while (fires.length < FIRES) fires.push(iterator.next().toDate().toISOString());
  } catch (err) {
    // cron-parser's loop limit: node-schedule stops there, and so must we.
    if (!String(err).includes("loop limit")) throw err;
  }
  return fires;
}
