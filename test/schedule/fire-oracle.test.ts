import { expect, test } from "vitest";
import { checkCron } from "../../runner/manifest/cron-fields.js";
import { nextFires } from "../../runner/schedule/index.js";
import { cronerSkippedMarchFirst, oracleFires } from "../support/fire-oracle.js";
import { scheduleCases } from "../support/schedule-cases.js";

/**
 * runlet's fire times against an independent oracle (croner's matching, the DST rules
 * of docs/schedules.md applied from Intl's offsets): random crons, rules and cron
 * windows, in Chatham, Lord Howe, Troll, Dublin, Casablanca and other zones, half of them
 * asked from just before a DST change. A longer run, with figures: test/bench/fire-oracle.mjs.
 *
 * Where runlet's reading is a documented choice the oracle is told it, not excused
 * (fire-oracle.ts): "*\/1" is "*", a cron's repeated hour fires again only when its hour
 * field is every hour, a gap's wall time is read at the offset before the change, a
 * rule skips a gap and repeats an overlap. The one case excused is croner's own error.
 */
const CASES = 1500;
const FIRES = 6;

test(`${CASES} random schedules give the oracle's ${FIRES} next fires`, () => {
  const disagreements: string[] = [];
  let compared = 0;
  for (const { schedule, after } of scheduleCases(20261204, CASES)) {
    if (schedule.kind === "cron" && checkCron(schedule.cron).length > 0) continue; // refused by the manifest stage
    compared++;
    const ours = nextFires(schedule, after, FIRES).map((d) => d.toISOString());
    const oracle = oracleFires(schedule, after, FIRES);
    // The one known error of the oracle (croner 9.1.0's February roll-over), not of runlet's.
    if (schedule.kind !== "every" && schedule.kind !== "at" && cronerSkippedMarchFirst(schedule.timezone, ours, oracle)) continue;
    if (JSON.stringify(ours) !== JSON.stringify(oracle)) disagreements.push(`${JSON.stringify(schedule)} from ${after.toISOString()}:\n  runlet ${ours.join(" ")}\n  oracle ${oracle.join(" ")}`);
  }
  expect(compared).toBeGreaterThan(CASES * 0.9);
  expect(disagreements).toEqual([]);
}, 120_000);
