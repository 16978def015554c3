// The measured side of test/bench/scale.mjs: each role runs alone in a fresh `node` process,
// so RSS and timings are not shared with the suite or with the other runner. Prints one JSON
// line on stdout. Also exports the manifest and cron generators both sides use.
//   node --expose-gc test/bench/scale-child.mjs <role> '<json options>'
// Roles: runlet-start, bare-start (start-up), runlet-late, bare-late (fire lateness).
import pino from "pino";

/** Cron strings of a start-up manifest: `distinct` different ones, or every job its own ("all"). */
export function startCron(i, distinct) {
  const k = distinct === "all" ? i : i % distinct;
  // Its own second of the day (daily), and past 86,400 also a day of the week (weekly).
  return `${k % 60} ${Math.floor(k / 60) % 60} ${Math.floor(k / 3600) % 24} * * ${k < 86_400 ? "*" : Math.floor(k / 86_400) % 7}`;
}

/** Cron strings of the lateness runs: every second, or at second `i mod 60` of each minute. */
export function lateCron(i, variant) {
  return variant === "shared" ? "* * * * * *" : `${i % 60} * * * * *`;
}

/** A manifest of `n` jobs in the shape of test/bench/validate.mjs (6 lines a job), 100 handler files. */
export function startManifest(n, distinct) {
  const lines = ["version: 1", "jobs:"];
  for (let i = 0; i < n; i++) {
    lines.push(`  job-${i}:`, `    handler: jobs/h${i % 100}.ts`, `    schedule: "${startCron(i, distinct)}"`, `    params: { n: ${i} }`, "    timeout: 30s", "    retries: { max: 2, backoff: exponential, delay: 1s }");
  }
  return `${lines.join("\n")}\n`;
}

export function lateManifest(n, variant) {
  const lines = ["version: 1", "jobs:"];
  for (let i = 0; i < n; i++) lines.push(`  j${i}: { handler: late.mjs, schedule: "${lateCron(i, variant)}" }`);
  return `${lines.join("\n")}\n`;
}

/** The handler of the lateness runs: reports its own start against the scheduled time. */
export const lateHandler = "export default (ctx) => { globalThis.__late(ctx.fireDate.getTime(), Date.now()); };\n";

const mb = (bytes) => bytes / 2 ** 20;
const settle = (ms) => new Promise((r) => setTimeout(r, ms));

/**
 * RSS and heap after `gcs` full GCs. One GC frees the parser's garbage but V8 hands the pages
 * back over the next ~10 s of idling (100,000 jobs: 1.6 GB just after, 0.27 GB 10 s later);
 * three more in a row get the same pages back at once: that is the "settled" figure.
 */
function memory(gcs = 1) {
  for (let i = 0; i < gcs; i++) global.gc?.();
  const { rss, heapUsed } = process.memoryUsage();
  return { rssMb: mb(rss), heapMb: mb(heapUsed) };
}

/** The build under test; RUNLET_BENCH_DIST points elsewhere to try a change side by side. */
const distRoot = process.env.RUNLET_BENCH_DIST ?? new URL("../../dist", import.meta.url).pathname;
const load = (path) => import(`${distRoot}/${path}`);

async function runletStart({ dir, breakdown }) {
  const t = performance.now();
  const { createRunner } = await load("runner/index.js");
  const { MemoryStore } = await load("runner/store/index.js");
  const { silentLogger } = await load("runner/log/logger.js");
  const importMs = performance.now() - t;
  const baseline = memory();
  const runner = createRunner({ manifest: `${dir}/jobs.yaml`, env: "bench", store: new MemoryStore({ logger: silentLogger() }) });
  let reloadMs = NaN;
  runner.once("reload", (r) => (reloadMs = r.durationMs));
  const t0 = performance.now();
  await runner.start();
  const startMs = performance.now() - t0;
  const after = memory();
  const settled = memory(3);
  const out = { jobs: runner.jobs.length, importMs, startMs, reloadMs, baselineRssMb: baseline.rssMb, ...after, settledRssMb: settled.rssMb, settledHeapMb: settled.heapMb };
  await runner.stop();
  if (breakdown) Object.assign(out, await stages(dir, runner.jobs));
  return out;
}

/** The stages of start-up timed one by one, after the real start (so caches are warm; a split, not a second total). */
async function stages(dir, jobs) {
  const { loadManifest } = await load("runner/manifest/index.js");
  const { HandlerCompiler } = await load("runner/compile/index.js");
  const { Scheduler } = await load("runner/schedule/index.js");
  let t = performance.now();
  loadManifest(`${dir}/jobs.yaml`, { env: "bench" });
  const validateMs = performance.now() - t;
  const compiler = new HandlerCompiler({ root: dir, outDir: `${dir}/.runlet/build-breakdown` });
  t = performance.now();
  await compiler.compileAll([...new Set(jobs.map((j) => j.handlerPath))]);
  const compileMs = performance.now() - t;
  const scheduler = new Scheduler({ onFire: () => {} });
  t = performance.now();
  for (const job of jobs) if (job.schedule) scheduler.add(job.name, job.schedule);
  scheduler.start();
  const scheduleMs = performance.now() - t;
  scheduler.stop();
  return { validateMs, compileMs, scheduleMs };
}

async function bareStart({ n, distinct }) {
  const { default: schedule } = await import("node-schedule");
  const baseline = memory();
  const t0 = performance.now();
  for (let i = 0; i < n; i++) schedule.scheduleJob(`job-${i}`, startCron(i, distinct), () => {});
  const startMs = performance.now() - t0;
  const after = memory();
  const settled = memory(3);
  return { jobs: Object.keys(schedule.scheduledJobs).length, startMs, baselineRssMb: baseline.rssMb, ...after, settledRssMb: settled.rssMb, settledHeapMb: settled.heapMb };
}

/** Collects (fire, start) pairs until the window has passed; fires outside the window are ignored. */
function collector(windowStart, windowEnd, capacity) {
  const lateness = new Float64Array(capacity);
  let count = 0;
  let outside = 0;
  globalThis.__late = (fireMs, startedMs) => {
    if (fireMs < windowStart || fireMs >= windowEnd) outside++;
    else if (count < capacity) lateness[count++] = startedMs - fireMs;
  };
  return { result: () => ({ samples: lateness.slice(0, count).sort(), outside }) };
}

function percentiles(sorted) {
  const at = (p) => (sorted.length === 0 ? NaN : sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]);
  return { p50: at(50), p99: at(99), max: sorted.length ? sorted[sorted.length - 1] : NaN };
}

/** Fires the window should hold: every job each second, or the jobs of that second's offset. */
function expectedFires(n, variant, windowStart, seconds) {
  if (variant === "shared") return n * seconds;
  let total = 0;
  for (let s = 0; s < seconds; s++) {
    const second = new Date(windowStart + s * 1000).getSeconds();
    total += Math.floor(n / 60) + (second < n % 60 ? 1 : 0);
  }
  return total;
}

/** How long after the window a fire is still counted: past runlet's default `lateness` (1 s), a start is skipped. */
const TAIL_MS = 1100;

/** The window starts on the second boundary at least `leadMs` from now. */
function windowFrom(leadMs, seconds) {
  const windowStart = Math.ceil((Date.now() + leadMs) / 1000) * 1000;
  return { windowStart, windowEnd: windowStart + seconds * 1000 };
}

async function runletLate({ dir, n, variant, seconds, infoLog }) {
  const { createRunner } = await load("runner/index.js");
  const { MemoryStore } = await load("runner/store/index.js");
  const { silentLogger } = await load("runner/log/logger.js");
  const logger = infoLog ? pino({ level: "info" }, pino.destination({ dest: "/dev/null", sync: false })) : silentLogger();
  const runner = createRunner({ manifest: `${dir}/jobs.yaml`, env: "bench", logger, store: new MemoryStore({ logger: silentLogger() }) });
  const skipped = { late: 0, overlap: 0, other: 0 };
  let failed = 0;
  runner.on("record", (r) => {
    if (r.status === "skipped") skipped[r.reason in skipped ? r.reason : "other"]++;
    else if (r.status !== "running" && r.status !== "ok") failed++;
  });
  globalThis.__late = () => {};
  await runner.start();
  const { windowStart, windowEnd } = windowFrom(1000, seconds);
  const expected = expectedFires(n, variant, windowStart, seconds);
  const collect = collector(windowStart, windowEnd, expected + n);
  await settle(windowEnd + TAIL_MS - Date.now());
  const { samples, outside } = collect.result();
  const rssMb = memory().rssMb;
  await runner.stop();
  return { expected, ran: samples.length, ...percentiles(samples), outside, skipped, failed, rssMb };
}

async function bareLate({ n, variant, seconds }) {
  const { default: schedule } = await import("node-schedule");
  globalThis.__late = () => {};
  const t0 = performance.now();
  for (let i = 0; i < n; i++) schedule.scheduleJob(`j${i}`, lateCron(i, variant), (fireDate) => globalThis.__late(fireDate.getTime(), Date.now()));
  const scheduleMs = performance.now() - t0;
  const { windowStart, windowEnd } = windowFrom(1000, seconds);
  const expected = expectedFires(n, variant, windowStart, seconds);
  const collect = collector(windowStart, windowEnd, expected + n);
  // The same grace as runlet gets; node-schedule has no lateness limit, so a fire that
  // starts later still is counted as missed here (it ran too late to be measured).
  await settle(windowEnd + TAIL_MS - Date.now());
  const { samples, outside } = collect.result();
  return { expected, ran: samples.length, ...percentiles(samples), outside, scheduleMs, rssMb: memory().rssMb };
}

const roles = { "runlet-start": runletStart, "bare-start": bareStart, "runlet-late": runletLate, "bare-late": bareLate };

if (process.argv[1]?.endsWith("scale-child.mjs")) {
  const [role, options] = process.argv.slice(2);
  const out = await roles[role](JSON.parse(options ?? "{}"));
  process.stdout.write(`${JSON.stringify(out)}\n`);
  process.exit(0);
}
