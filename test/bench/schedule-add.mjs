// Issue: scheduling 100k jobs with node-schedule takes minutes (notes/dependencies.md).
// Prints the time runlet's Scheduler takes to add (and start) 1k/10k/100k jobs over 1,000
// distinct cron schedules and over all-distinct ones, in UTC and in a DST zone, and what
// bare node-schedule scheduleJob takes for 10k (100k: minutes, skipped); then how late
// 1,000 jobs sharing a per-second cron are handed their fires on the real clock.
//
// Run: node test/bench/schedule-add.mjs   (no build needed: esbuild bundles the stage)
import { build } from "esbuild";
import { rmSync, writeFileSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import schedule from "node-schedule";
import { fmt, machine, printTable, repoRoot, summary } from "./lib.mjs";

/** The schedule stage bundled to a module inside the repo, so its bare imports resolve. */
async function loadScheduleStage() {
  const out = await build({ entryPoints: [join(repoRoot, "runner/schedule/index.ts")], bundle: true, format: "esm", platform: "node", packages: "external", write: false, logLevel: "error" });
  const dir = join(repoRoot, "test", ".tmp");
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `schedule-bench-${process.pid}.mjs`);
  writeFileSync(file, out.outputFiles[0].text);
  try {
    return await import(pathToFileURL(file).href);
  } finally {
    rmSync(file, { force: true });
  }
}

/** The i-th of up to 604,800 distinct cron strings (second, minute, hour, weekday). */
const distinctCron = (i) => `${i % 60} ${Math.floor(i / 60) % 60} ${Math.floor(i / 3600) % 24} * * ${Math.floor(i / 86_400) % 7}`;
/** 1,000 distinct strings, shared by jobs round-robin. */
const sharedCron = (i) => distinctCron(i % 1000);

/** A clock stopped at `now` whose timers never run: only adding is measured. */
const stoppedAt = (now) => ({ now: () => now, setTimeout: () => 0, clearTimeout: () => {} });

function timeRunlet({ Scheduler }, jobs, cronOf, timezone, now = Date.now()) {
  const scheduler = new Scheduler({ clock: stoppedAt(now), onFire: () => {} });
  const started = performance.now();
  // A fresh Schedule object per job, as the manifest stage makes them.
  for (let i = 0; i < jobs; i++) scheduler.add(`job-${i}`, { kind: "cron", cron: cronOf(i), timezone, start: null, end: null });
  scheduler.start();
  const ms = performance.now() - started;
  scheduler.stop();
  if (scheduler.size !== jobs) throw new Error(`expected ${jobs} jobs, got ${scheduler.size}`);
  return ms;
}

function timeNodeSchedule(jobs, cronOf, tz) {
  const created = [];
  const started = performance.now();
  for (let i = 0; i < jobs; i++) created.push(schedule.scheduleJob(`job-${i}`, tz ? { rule: cronOf(i), tz } : cronOf(i), () => {}));
  const ms = performance.now() - started;
  for (const job of created) job?.cancel();
  if (created.some((job) => !job)) throw new Error("node-schedule refused a cron string");
  return ms;
}

/** 1,000 jobs sharing `* * * * * *` on the real clock for `seconds`: how late each job's fire is handed over. */
async function lateness({ Scheduler }, jobs = 1000, seconds = 5) {
  const late = [];
  const scheduler = new Scheduler({
    onFire: (batch) => {
      for (let i = 0; i < batch.jobs.length; i++) late.push(Date.now() - batch.fireDate.getTime());
    },
  });
  for (let i = 0; i < jobs; i++) scheduler.add(`job-${i}`, { kind: "cron", cron: "* * * * * *", timezone: null, start: null, end: null });
  const started = Date.now();
  scheduler.start();
  await new Promise((resolve) => setTimeout(resolve, seconds * 1000));
  scheduler.stop();
  const due = Math.floor(Date.now() / 1000) - Math.floor(started / 1000);
  return { expected: jobs * due, ...summary(late) };
}

/** `smoke`: small sizes only, for a quick check that the part still runs (test/bench/run.mjs). */
export async function run({ smoke = false, sizes = smoke ? [1_000, 10_000] : [1_000, 10_000, 100_000], zones = ["UTC", "America/New_York"] } = {}) {
  const stage = await loadScheduleStage();
  timeRunlet(stage, 2_000, distinctCron, "UTC"); // warm up the JIT and the zone tables
  const rows = [];
  for (const zone of zones) {
    for (const [label, cronOf] of [["1,000 distinct", sharedCron], ["all distinct", distinctCron]]) {
      for (const jobs of sizes) rows.push(["runlet Scheduler", zone, label, jobs, fmt(timeRunlet(stage, jobs, cronOf, zone), 0)]);
    }
  }
  // The costly case: many next fires fall past a DST change (New York, 2026-03-08), where
  // cron-parser's own walk is asked for a share of them.
  const beforeDst = Date.parse("2026-03-05T12:00:00Z");
  const biggest = sizes.at(-1);
  rows.push(["runlet Scheduler", "America/New_York, 3 days before DST", "all distinct", biggest, fmt(timeRunlet(stage, biggest, distinctCron, "America/New_York", beforeDst), 0)]);
  const bare = smoke ? 1_000 : 10_000;
  for (const [label, cronOf] of [["1,000 distinct", sharedCron], ["all distinct", distinctCron]]) {
    rows.push(["node-schedule scheduleJob", "UTC", label, bare, fmt(timeNodeSchedule(bare, cronOf, "UTC"), 0)]);
  }
  printTable(`Scheduling cron jobs (add + start), ${machine()}`, ["engine", "zone", "schedules", "jobs", "ms"], rows);
  const l = await lateness(stage, 1000, smoke ? 2 : 5);
  printTable(`1,000 jobs on "* * * * * *" for ${smoke ? 2 : 5} s, real clock: lateness of each job's fire (ms)`, ["fires", "expected", "p50", "p95", "max"], [[l.n, l.expected, l.p50, l.p95, l.max]]);
  return rows;
}

if (process.argv[1]?.endsWith("schedule-add.mjs") && import.meta.url === pathToFileURL(process.argv[1]).href) await run();
