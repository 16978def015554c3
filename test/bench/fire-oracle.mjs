// Fire times against an independent oracle, at length, and what a fire costs.
// 1. Random crons, rules and cron windows (test/support/schedule-cases.ts) in Chatham,
//    Lord Howe, Troll, Dublin, Casablanca and other zones, half asked from just before a
//    DST change: runlet's next fires against the oracle's (croner's matching, the DST
//    rules of docs/schedules.md; test/support/fire-oracle.ts). The suite runs 1,500 cases
//    (test/schedule/fire-oracle.test.ts); this runs as many as asked.
// 2. The cost of a next fire: runlet against cron-parser's walk (what node-schedule runs)
//    and croner's, same crons, same zones, same run.
//
// Run: node test/bench/fire-oracle.mjs [--cases N] [--seed S]   (no build needed)
process.env.TZ = "UTC"; // the oracle reads croner's wall-clock times in the process zone
import { build } from "esbuild";
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import cronParser from "cron-parser";
import { Cron } from "croner";
import { fmt, machine, printTable, repoRoot } from "./lib.mjs";

const ENTRY = `
export { nextFires } from "./runner/schedule/index.ts";
export { checkCron } from "./runner/manifest/cron-fields.ts";
export { cronerSkippedMarchFirst, oracleFires } from "./test/support/fire-oracle.ts";
export { scheduleCases } from "./test/support/schedule-cases.ts";
`;

async function loadParts() {
  const out = await build({ stdin: { contents: ENTRY, resolveDir: repoRoot, loader: "ts" }, bundle: true, format: "esm", platform: "node", packages: "external", write: false, logLevel: "error" });
  const dir = join(repoRoot, "test", ".tmp");
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `fire-oracle-bench-${process.pid}.mjs`);
  writeFileSync(file, out.outputFiles[0].text);
  try {
    return await import(pathToFileURL(file).href);
  } finally {
    rmSync(file, { force: true });
  }
}

function differential(parts, cases, seed, fires = 6) {
  const started = performance.now();
  let compared = 0;
  let fireCount = 0;
  const disagreements = [];
  const byKind = new Map();
  for (const { schedule, after } of parts.scheduleCases(seed, cases)) {
    if (schedule.kind === "cron" && parts.checkCron(schedule.cron).length > 0) continue;
    compared++;
    const ours = parts.nextFires(schedule, after, fires).map((d) => d.toISOString());
    const oracle = parts.oracleFires(schedule, after, fires);
    fireCount += oracle.length;
    const kind = schedule.kind === "rule" ? "rule" : schedule.start || schedule.end ? "cron window" : "cron";
    const row = byKind.get(kind) ?? { cases: 0, disagree: 0, oracleError: 0 };
    row.cases++;
    if (parts.cronerSkippedMarchFirst(schedule.timezone, ours, oracle)) row.oracleError++;
    else if (JSON.stringify(ours) !== JSON.stringify(oracle)) {
      row.disagree++;
      disagreements.push(`${JSON.stringify(schedule)} from ${after.toISOString()}\n  runlet ${ours.join(" ")}\n  oracle ${oracle.join(" ")}`);
    }
    byKind.set(kind, row);
  }
  return { compared, fireCount, disagreements, byKind, seconds: (performance.now() - started) / 1000 };
}

/** Microseconds per next fire, six fires per cron from the same start, for each engine; zone tables warm. */
function fireCost(parts, zone, count) {
  const weekly = Array.from({ length: count }, (_, i) => `${i % 60} ${(i * 7) % 60} ${(i * 5) % 24} * * ${i % 7}`);
  const daily = Array.from({ length: count }, (_, i) => `${(i * 7) % 60} ${(i * 5) % 24} * * *`);
  const from = new Date("2026-03-05T12:00:00Z");
  const rows = [];
  for (const [label, list] of [["weekly, 6 fields", weekly], ["daily", daily]]) {
    const time = (fn) => {
      const t = performance.now();
      for (const expr of list) fn(expr);
      return ((performance.now() - t) * 1000) / (list.length * 6);
    };
    const ours = (expr) => parts.nextFires({ kind: "cron", cron: expr, timezone: zone, start: null, end: null }, from, 6);
    time(ours); // a schedule is read once and its zone's offsets tabled once, then asked fire after fire
    const runlet = time(ours);
    const parser = time((expr) => {
      const it = cronParser.parseExpression(expr, { currentDate: from, ...(zone ? { tz: zone } : {}) });
      for (let i = 0; i < 6; i++) it.next();
    });
    const croner = time((expr) => new Cron(expr, { paused: true, legacyMode: true, ...(zone ? { timezone: zone } : {}) }).nextRuns(6, from));
    rows.push([zone ?? "process (UTC)", label, fmt(runlet, 1), fmt(parser, 1), fmt(croner, 1), `${fmt(parser / runlet, 0)}×`, `${fmt(croner / runlet, 0)}×`]);
  }
  return rows;
}

export async function run({ cases = 20_000, seed = 20261204, smoke = false } = {}) {
  const parts = await loadParts();
  const result = differential(parts, smoke ? 500 : cases, seed);
  printTable(
    `Fire times against the oracle (croner + documented DST rules), seed ${seed}, ${machine()}`,
    ["kind", "cases", "disagreements", "croner's March 1 error"],
    [...result.byKind].map(([kind, row]) => [kind, row.cases, row.disagree, row.oracleError]),
  );
  console.log(`${result.compared} cases, ${result.fireCount} fires compared in ${fmt(result.seconds, 1)} s; ${result.disagreements.length} disagreements`);
  for (const d of result.disagreements.slice(0, 10)) console.log(d);
  const crons = smoke ? 20 : 100;
  const cost = [...fireCost(parts, null, crons), ...fireCost(parts, "America/New_York", crons), ...fireCost(parts, "Pacific/Chatham", crons)];
  printTable("A next fire, µs (6 fires from 2026-03-05, a DST change ahead in New York; shared, loaded machine)", ["zone", "crons", "runlet", "cron-parser", "croner", "cron-parser / runlet", "croner / runlet"], cost);
  return [...[...result.byKind].map(([kind, row]) => ["oracle", kind, row.cases, row.disagree]), ...cost];
}

if (process.argv[1]?.endsWith("fire-oracle.mjs") && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const { values } = parseArgs({ options: { cases: { type: "string" }, seed: { type: "string" } } });
  await run({ cases: Number(values.cases ?? 20_000), seed: Number(values.seed ?? 20261204) });
}
