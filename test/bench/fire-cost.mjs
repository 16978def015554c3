// What 1,000 inline jobs on one `* * * * * *` cost the main thread, in figures that do not
// depend on when the process gets the CPU (the lateness p99 of the dispatch part does):
//   - on the real clock for a few seconds: CPU per second, the process's (process.cpuUsage:
//     the main thread, the runner's only thread at work, its thread pool idle, and V8's
//     helper threads) and the main thread's alone, in the first seconds, the seconds after
//     them, and once V8 has compiled the path (from 20 s on: the first seconds' figures are
//     mostly V8 compiling and running code not yet optimized, so a build with more small
//     functions on the path looks dearer there than it is after);
//   - on a virtual clock, fire after fire: the synchronous fire (the timer's callback, every
//     handler started in it) and first → last handler start within it. p10 is the figure to
//     compare: the fires the machine did not interrupt.
// The runner logs nowhere. To compare builds, run this same file from each build's checkout.
//   npm run build && node test/bench/fire-cost.mjs [--smoke]
import { readFileSync, writeFileSync } from "node:fs";
import { dist, fmt, printTable, summary, tempProject } from "./lib.mjs";

const { createRunner } = await import(dist("runner/index.js"));
const { silentLogger } = await import(dist("runner/log/logger.js"));
const { MemoryStore } = await import(dist("runner/store/index.js"));

const JOBS = 1000;

function writeProject(project) {
  const lines = ["version: 1", "jobs:"];
  for (let i = 0; i < JOBS; i++) lines.push(`  j${i}: { handler: fan.mjs, schedule: "* * * * * *", lateness: 10s }`);
  writeFileSync(project.path("fan.yaml"), `${lines.join("\n")}\n`);
  writeFileSync(project.path("fan.mjs"), "export default () => { globalThis.__fireCost(); };\n");
}

const newRunner = (project, clock) =>
  createRunner({ manifest: project.path("fan.yaml"), env: "bench", logger: silentLogger(), store: new MemoryStore({ logger: silentLogger() }), ...(clock ? { clock } : {}) });

/** The main thread's own CPU so far, ms (Linux), else null. */
function mainThreadMs() {
  try {
    return Number(readFileSync("/proc/thread-self/schedstat", "utf8").split(" ")[0]) / 1e6;
  } catch {
    return null;
  }
}

/**
 * CPU ms per second while the jobs fire on the real clock: the process's (the main thread's
 * and V8's helper threads', which collect and compile beside it) and the main thread's own,
 * in three windows of `seconds`: the first after start (code still being optimized, the heap
 * still growing), the next, and one from `steadyFrom` seconds on (compiled, the heap sized).
 */
async function cpuPerSecond(project, seconds, steadyFrom) {
  let runs = 0;
  globalThis.__fireCost = () => runs++;
  const runner = newRunner(project);
  await runner.start();
  // From a second boundary on: start-up work is not counted.
  await new Promise((r) => setTimeout(r, 1000 - (Date.now() % 1000) + 100));
  const windows = [];
  for (let w = 0; w < 3; w++) {
    if (w === 2) await new Promise((r) => setTimeout(r, (steadyFrom - 2 * seconds) * 1000));
    const before = process.cpuUsage();
    const mainBefore = mainThreadMs();
    const startRuns = runs;
    await new Promise((r) => setTimeout(r, seconds * 1000));
    const used = process.cpuUsage(before);
    const main = mainThreadMs();
    windows.push({ cpuMsPerS: (used.user + used.system) / 1000 / seconds, mainMsPerS: main === null ? NaN : (main - mainBefore) / seconds, runs: runs - startRuns });
  }
  await runner.stop();
  return windows;
}

/** A clock whose time moves only when the bench runs its next timer. */
function virtualClock() {
  let now = Math.ceil(Date.now() / 1000) * 1000 + 500;
  let seq = 0;
  const timers = new Map();
  return {
    now: () => now,
    setTimeout: (fn, ms) => {
      const id = ++seq;
      timers.set(id, { at: now + Math.max(0, ms), fn, id });
      return id;
    },
    clearTimeout: (id) => timers.delete(id),
    /** Runs the next timer due; false when none is set. */
    runNext() {
      let next = null;
      for (const t of timers.values()) if (!next || t.at < next.at || (t.at === next.at && t.id < next.id)) next = t;
      if (!next) return false;
      timers.delete(next.id);
      now = Math.max(now, next.at);
      next.fn();
      return true;
    },
  };
}

/** Per fire: the synchronous fire and first → last handler start, ms. */
async function fireByFire(project, fires) {
  let count = 0;
  let first = 0;
  let last = 0;
  globalThis.__fireCost = () => {
    const t = performance.now();
    if (count++ === 0) first = t;
    last = t;
  };
  const clock = virtualClock();
  const runner = newRunner(project, clock);
  await runner.start();
  const turn = () => new Promise((r) => setImmediate(r));
  for (let i = 0; i < 5; i++) await turn();
  const whole = [];
  const spread = [];
  const warmUp = 20;
  for (let fire = 0; fire < fires + warmUp; ) {
    count = 0;
    const t0 = performance.now();
    if (!clock.runNext()) break;
    const t1 = performance.now();
    if (count >= JOBS) {
      if (fire >= warmUp) {
        whole.push(t1 - t0);
        spread.push(last - first);
      }
      fire++;
      // Its runs' bookkeeping (records, the store) happens here, between fires.
      await turn();
    }
    await turn();
  }
  await runner.stop();
  return { whole: summary(whole), spread: summary(spread), fires: whole.length };
}

export async function run({ smoke = false } = {}) {
  const project = tempProject();
  writeProject(project);
  try {
    const seconds = smoke ? 2 : 6;
    const steadyFrom = smoke ? 6 : 20;
    const [first, later, steady] = await cpuPerSecond(project, seconds, steadyFrom);
    const fires = await fireByFire(project, smoke ? 30 : 100);
    printTable(
      `1,000 inline jobs on "* * * * * *": main-thread cost (${first.runs} + ${later.runs} + ${steady.runs} runs on the real clock, ${fires.fires} fires on a virtual clock)`,
      ["measure", "p10 ms", "p50 ms"],
      [
        [`CPU per second of firing (real clock), process, first ${seconds} s`, fmt(first.cpuMsPerS, 1), ""],
        [`same, the ${seconds} s after`, fmt(later.cpuMsPerS, 1), ""],
        [`same, ${seconds} s from the ${steadyFrom}th s of firing (compiled)`, fmt(steady.cpuMsPerS, 1), ""],
        [`main thread alone, first ${seconds} s / the ${seconds} s after / from the ${steadyFrom}th s`, `${fmt(first.mainMsPerS, 1)} / ${fmt(later.mainMsPerS, 1)} / ${fmt(steady.mainMsPerS, 1)}`, ""],
        ["one fire, synchronous (every handler started)", fmt(fires.whole.p10, 2), fmt(fires.whole.p50, 2)],
        ["one fire, first → last handler start", fmt(fires.spread.p10, 2), fmt(fires.spread.p50, 2)],
      ],
    );
    return [
      { part: "fire cost", measure: "cpu ms per second", value: first.cpuMsPerS, runs: first.runs },
      { part: "fire cost", measure: "cpu ms per second, after the first seconds", value: later.cpuMsPerS, runs: later.runs },
      { part: "fire cost", measure: "cpu ms per second, compiled", value: steady.cpuMsPerS, runs: steady.runs, from: steadyFrom },
      { part: "fire cost", measure: "main thread cpu ms per second, first seconds / after / compiled", first: first.mainMsPerS, later: later.mainMsPerS, steady: steady.mainMsPerS },
      { part: "fire cost", measure: "synchronous fire ms", p10: fires.whole.p10, p50: fires.whole.p50, fires: fires.fires },
      { part: "fire cost", measure: "first to last handler start ms", p10: fires.spread.p10, p50: fires.spread.p50, fires: fires.fires },
    ];
  } finally {
    project.remove();
  }
}

if (process.argv[1]?.endsWith("fire-cost.mjs")) {
  await run({ smoke: process.argv.includes("--smoke") });
  process.exit(0);
}
