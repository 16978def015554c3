// What the workers' lower CPU priority (nice +10, the default) buys the main thread when
// thread handlers keep every core busy, side by side with the workers at the main thread's
// priority (nice 0), in one run, phases interleaved (0, +10, +10, 0, ...): BUSY thread jobs
// spin 900 ms of every second on a pool of BUSY threads (twice the cores by default), beside
// FAN inline jobs on the same every-second schedule. The main thread starts every run, so
// its lateness is what a user sees: each inline run's start − its scheduled time, the last
// start of each fire, and the event loop's delay (timers, HTTP, every other callback) beyond
// the histogram's 1 ms timer. The spins' iterations say how much work the thread jobs got
// done (a spin runs 900 ms by the clock, however much CPU it gets). A first phase, not
// measured, warms the code up, so neither setting is measured cold.
//   npm run build && node test/bench/worker-priority.mjs [--smoke] [--rounds 3] [--seconds 40] [--busy N] [--fan 200]
import { monitorEventLoopDelay } from "node:perf_hooks";
import { writeFileSync } from "node:fs";
import { cpus } from "node:os";
import { dist, fmt, lateWindow, printTable, summary, tempProject } from "./lib.mjs";

const { createRunner } = await import(dist("runner/index.js"));
const { silentLogger } = await import(dist("runner/log/logger.js"));
const { MemoryStore } = await import(dist("runner/store/index.js"));
const { ThreadExecutor, WORKER_NICE } = await import(dist("runner/execute/thread-executor.js"));

function writeProject(project, { busy, fan }) {
  const lines = ["version: 1", `threads: ${busy}`, "jobs:"];
  for (let i = 0; i < busy; i++) lines.push(`  busy${i}: { handler: spin.mjs, mode: thread, schedule: "* * * * * *", lateness: 10s, params: { ms: 900 } }`);
  for (let i = 0; i < fan; i++) lines.push(`  fan${i}: { handler: fan.mjs, schedule: "* * * * * *", lateness: 10s }`);
  writeFileSync(project.path("jobs.yaml"), `${lines.join("\n")}\n`);
  writeFileSync(project.path("spin.mjs"), "export default (ctx) => { const end = Date.now() + ctx.params.ms; let n = 0; while (Date.now() < end) n++; return n; };\n");
  writeFileSync(project.path("fan.mjs"), "export default (ctx) => { globalThis.__late(ctx.fireDate.getTime(), Date.now()); };\n");
}

/** One phase: a fresh runner whose workers run at `nice`, measured for `seconds` after a warm-up. */
async function phase(project, nice, seconds) {
  const window = lateWindow();
  const lastOfFire = new Map();
  const keep = globalThis.__late;
  globalThis.__late = (fire, started) => {
    keep(fire, started);
    if (window.holds(fire)) lastOfFire.set(fire, Math.max(lastOfFire.get(fire) ?? -Infinity, started - fire));
  };
  let spins = 0;
  let iterations = 0;
  const logger = silentLogger();
  const runner = createRunner({
    manifest: project.path("jobs.yaml"),
    env: "bench",
    logger,
    store: new MemoryStore({ logger }),
    executors: { thread: new ThreadExecutor({ logger, workerNice: nice }) },
  });
  runner.on("record", (r) => {
    if (r.job.startsWith("busy") && r.status === "ok" && window.holds(Date.parse(r.scheduledAt))) {
      spins++;
      iterations += r.result;
    }
  });
  const loop = monitorEventLoopDelay({ resolution: LOOP_RESOLUTION_MS });
  try {
    await runner.start();
    const closed = window.open(seconds);
    const on = setTimeout(() => loop.enable(), window.start - Date.now());
    const off = setTimeout(() => loop.disable(), window.end - Date.now());
    await closed;
    clearTimeout(on);
    clearTimeout(off);
  } finally {
    await runner.stop();
  }
  // The histogram records each turn of its timer, the interval included: the delay is what is over it.
  const late = (ns) => Math.max(0, ns / 1e6 - LOOP_RESOLUTION_MS);
  return { nice, perRun: summary(window.late), perFire: summary([...lastOfFire.values()]), loop: { p99: late(loop.percentile(99)), max: late(loop.max) }, spins, iterations };
}

const LOOP_RESOLUTION_MS = 1;

const range = (values, digits = 1) => (values.length === 1 ? fmt(values[0], digits) : `${fmt(Math.min(...values), digits)}–${fmt(Math.max(...values), digits)}`);

export async function run({ smoke = false, rounds = smoke ? 1 : 3, seconds = smoke ? 3 : 40, busy = cpus().length * 2, fan = smoke ? 50 : 200 } = {}) {
  const project = tempProject();
  writeProject(project, { busy, fan });
  const phases = [];
  try {
    await phase(project, WORKER_NICE, smoke ? 2 : 10); // warm-up, not measured
    // 0, +10, +10, 0, ...: neither setting always runs first (warmer caches, a quieter machine).
    for (let r = 0; r < rounds; r++) for (const nice of r % 2 === 0 ? [0, WORKER_NICE] : [WORKER_NICE, 0]) phases.push(await phase(project, nice, seconds));
  } finally {
    project.remove();
  }
  const of = (nice, pick) => phases.filter((p) => p.nice === nice).map(pick);
  const rows = [0, WORKER_NICE].map((nice) => [
    `+${nice}${nice === WORKER_NICE ? " (default)" : ""}`,
    range(of(nice, (p) => p.loop.p99), 2),
    range(of(nice, (p) => p.loop.max)),
    range(of(nice, (p) => p.perRun.p50)),
    range(of(nice, (p) => p.perRun.p99)),
    range(of(nice, (p) => p.perFire.max)),
    range(of(nice, (p) => p.iterations / p.spins / 1e6), 2),
  ]);
  printTable(
    `Workers' priority, ${busy} thread jobs spinning 900 ms a second on ${busy} threads (${cpus().length} cores) beside ${fan} inline jobs; ${rounds} round(s) of ${seconds} s each, ranges over rounds`,
    ["workers' nice", "event-loop delay beyond the timer, p99 (ms)", "max (ms)", "inline start − fire p50", "p99", "slowest fire's last start", "spin iterations (M per run)"],
    rows,
  );
  const median = (values) => {
    const sorted = [...values].sort((a, b) => a - b);
    const mid = sorted.length / 2;
    return Number.isInteger(mid) ? (sorted[mid - 1] + sorted[mid]) / 2 : sorted[Math.floor(mid)];
  };
  const at0 = median(of(0, (p) => p.loop.p99));
  const atDefault = median(of(WORKER_NICE, (p) => p.loop.p99));
  console.log(`event-loop delay p99 beyond the timer, median over rounds: ${fmt(at0, 2)} ms at nice 0, ${fmt(atDefault, 2)} ms at +${WORKER_NICE}`);
  return [
    ...rows.map(([nice, loopP99, loopMax, runP50, runP99, slowestFire, spinIterations]) => ({ measure: `workers at nice ${nice}`, loopP99, loopMax, runP50, runP99, slowestFire, spinIterations })),
    { measure: "event-loop delay p99 beyond the timer, median over rounds (ms)", nice0: at0, default: atDefault },
  ];
}

if (process.argv[1] === new URL(import.meta.url).pathname) {
  const arg = (name) => {
    const i = process.argv.indexOf(`--${name}`);
    return i >= 0 ? Number(process.argv[i + 1]) : undefined;
  };
  await run({ smoke: process.argv.includes("--smoke"), rounds: arg("rounds"), seconds: arg("seconds"), busy: arg("busy"), fan: arg("fan") });
}
