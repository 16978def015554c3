import cronParser from "cron-parser";
import { expect, test } from "vitest";
import { nextFires } from "../../runner/schedule/index.js";
import { seeded } from "../support/seeded.js";

/**
 * The cron fast path (a calendar search between DST changes) against what node-schedule
 * runs: one cron-parser iterator per job, asked `next()` fire after fire. Random cron
 * strings; half of them start just before a DST change, in zones with odd ones too.
 */
const ZONES = [null, "UTC", "Europe/Berlin", "America/New_York", "Asia/Kolkata", "Asia/Tokyo", "America/Sao_Paulo"];
/** 2026's DST changes, in zones with unusual ones too: at midnight (Havana, Santiago, the Azores), by 30 minutes (Lord Howe), by 2 hours (Troll), at 02:45 (Chatham). */
const CHANGES: Record<string, string[]> = {
  "America/New_York": ["2026-03-08", "2026-11-01"],
  "Europe/Berlin": ["2026-03-29", "2026-10-25"],
  "Australia/Lord_Howe": ["2026-04-05", "2026-10-04"],
  "America/Havana": ["2026-03-08", "2026-11-01"],
  "America/Santiago": ["2026-04-05", "2026-09-06"],
  "Antarctica/Troll": ["2026-03-29", "2026-10-25"],
  "Pacific/Chatham": ["2026-04-05", "2026-09-27"],
  "Atlantic/Azores": ["2026-03-29", "2026-10-25"],
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
    const start = new Date(from + (random() < 0.5 ? 0 : Math.floor(random() * 1000)));
    const expected = iteratorFires(expr, zone, start);
    if (!expected) continue; // a string cron-parser refuses (the manifest stage would too)
    compared++;
    const ours = nextFires({ kind: "cron", cron: expr, timezone: zone, start: null, end: null }, start, FIRES).map((d) => d.toISOString());
    if (JSON.stringify(ours) !== JSON.stringify(expected)) mismatches.push(`${expr} in ${zone} from ${start.toISOString()}: got ${ours.join(" ")}; node-schedule ${expected.join(" ")}`);
  }
  expect(compared).toBeGreaterThan(CASES * 0.9);
  expect(mismatches).toEqual([]);
});

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
