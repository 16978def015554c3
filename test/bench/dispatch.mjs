// Thread-mode dispatch, side by side in one run: runlet's pool vs Bree (a new Worker per
// run) vs raw piscina; and the fan-out of 1,000 jobs due in the same second, runlet vs a
// bare node-schedule setup. Latency = handler start − fire (process.hrtime is one
// monotonic clock for every thread of a process).
//   npm run build && node test/bench/dispatch.mjs [--smoke]
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import Bree from "bree";
import schedule from "node-schedule";
import { Piscina } from "piscina";
import { dist, fmt, printTable, summary, tempProject } from "./lib.mjs";

const { Dispatcher } = await import(dist("runner/execute/dispatcher.js"));
const { ThreadExecutor } = await import(dist("runner/execute/thread-executor.js"));
const { InlineExecutor } = await import(dist("runner/execute/inline-executor.js"));
const { silentLogger } = await import(dist("runner/log/logger.js"));
const { systemClock } = await import(dist("runner/contracts/index.js"));
const { createRunner } = await import(dist("runner/index.js"));
const { MemoryStore } = await import(dist("runner/store/index.js"));

const now = () => Number(process.hrtime.bigint()) / 1e6; // ms, sub-µs resolution

function jobDef(name, overrides = {}) {
  return {
    name, description: "", handler: "h", handlerPath: "h", schedule: null, scheduleSource: null, mode: "thread", enabled: true, params: {},
    timeoutMs: null, overlap: "allow", retries: { max: 0, backoff: "fixed", delayMs: 1000, maxDelayMs: null }, timezone: null, memoryMb: null,
    latenessMs: 60_000, catchUp: "none", startingDeadlineMs: null, historyKeep: 100, specHash: "0", position: { file: "x", line: 1, col: 1 }, ...overrides,
  };
}

/**
 * Sequential fires: each waits for the previous run, so latency is the dispatch path alone.
 * With `gapMs`, each fire also waits that long after the previous run, so it finds the pool
 * idle, its workers asleep, as a fire from a timer does. Back to back, raw piscina often
 * catches its worker before it sleeps again, which no scheduled fire does.
 */
async function latencies(n, fire, gapMs = 0) {
  const out = [];
  for (let i = 0; i < n; i++) {
    if (gapMs > 0) await new Promise((r) => setTimeout(r, gapMs));
    const t0 = now();
    const started = await fire(i);
    out.push(started - t0);
  }
  return out;
}

async function throughput(n, fireAll) {
  const t0 = performance.now();
  await fireAll(n);
  return n / ((performance.now() - t0) / 1000);
}

export async function run({ smoke = false } = {}) {
  const n = smoke ? 300 : 3000;
  const breeRuns = smoke ? 20 : 100;
  const project = tempProject({
    // The handler reports when it started; `startedAt` in ms from the shared monotonic clock.
    "handler.mjs": "export default () => ({ startedAt: Number(process.hrtime.bigint()) / 1e6 });\n",
    "piscina-worker.mjs": "export default () => ({ startedAt: Number(process.hrtime.bigint()) / 1e6 });\n",
    "bree-worker.mjs": "import { parentPort } from 'node:worker_threads';\nparentPort.postMessage(Number(process.hrtime.bigint()) / 1e6);\n",
  });
  const rows = [];
  try {
    // Raw piscina (the floor for a pooled worker thread) and runlet (the dispatcher with its
    // lateness, overlap and records, over the thread executor), both up at once and measured
    // in alternating rounds, so that drift in the machine's speed hits both alike.
    const pool = new Piscina({ filename: project.path("piscina-worker.mjs"), atomics: "async", maxThreads: 2 });
    const thread = new ThreadExecutor({ logger: silentLogger(), maxThreads: 2 });
    const dispatcher = new Dispatcher({
      executors: { inline: new InlineExecutor(), thread },
      logger: silentLogger(),
      clock: systemClock,
      env: "bench",
      onRecord: () => {},
    });
    const job = { def: jobDef("bench"), modulePath: project.path("handler.mjs") };
    const fireRaw = async () => (await pool.run({})).startedAt;
    const fireRunlet = async () => (await dispatcher.fire(job, new Date())).result.startedAt;
    const fireAllRaw = (k) => Promise.all(Array.from({ length: k }, () => pool.run({})));
    const fireAllRunlet = (k) => Promise.all(Array.from({ length: k }, () => dispatcher.fire(job, new Date())));
    await fireAllRaw(50);
    await fireAllRunlet(50);
    const rounds = 10;
    const rawLat = [];
    const runletLat = [];
    const rawBackToBack = [];
    const runletBackToBack = [];
    const rawRates = [];
    const runletRates = [];
    for (let round = 0; round < rounds; round++) {
      rawLat.push(...(await latencies(n / rounds, fireRaw, 1)));
      runletLat.push(...(await latencies(n / rounds, fireRunlet, 1)));
      rawBackToBack.push(...(await latencies(n / rounds, fireRaw)));
      runletBackToBack.push(...(await latencies(n / rounds, fireRunlet)));
      rawRates.push(await throughput((n * 3) / rounds, fireAllRaw));
      runletRates.push(await throughput((n * 3) / rounds, fireAllRunlet));
    }
    const rawTput = summary(rawRates).p50;
    const runletTput = summary(runletRates).p50;
    await pool.destroy();
    await thread.close();

    // Bree: a new Worker per run (~20 ms here).
    const bree = new Bree({ root: false, logger: false, jobs: [{ name: "bench", path: project.path("bree-worker.mjs") }], workerMessageHandler: ({ message }) => breeStarted?.(message) });
    let breeStarted;
    // Bree runs one worker per job name at a time: wait for it to exit before the next fire.
    const breeLat = await latencies(breeRuns, () => new Promise((resolve) => {
      let startedAt;
      breeStarted = (t) => (startedAt = t);
      bree.once("worker deleted", () => resolve(startedAt));
      void bree.run("bench");
    }));
    await bree.stop();

    const raw = summary(rawLat);
    const ours = summary(runletLat);
    const theirs = summary(breeLat);
    rows.push(
      { part: "thread dispatch", runner: "raw piscina", runs: n, p50Ms: raw.p50, p99Ms: raw.p99, runsPerS: rawTput },
      { part: "thread dispatch", runner: "runlet (dispatcher + pool)", runs: n, p50Ms: ours.p50, p99Ms: ours.p99, runsPerS: runletTput },
      { part: "thread dispatch", runner: "Bree (Worker per run)", runs: breeRuns, p50Ms: theirs.p50, p99Ms: theirs.p99, runsPerS: 1000 / theirs.p50 },
    );
    const rawB2b = summary(rawBackToBack);
    const oursB2b = summary(runletBackToBack);
    rows.push(
      { part: "thread dispatch, back to back", runner: "raw piscina", runs: n, p50Ms: rawB2b.p50, p99Ms: rawB2b.p99 },
      { part: "thread dispatch, back to back", runner: "runlet (dispatcher + pool)", runs: n, p50Ms: oursB2b.p50, p99Ms: oursB2b.p99 },
    );
    printTable(
      "Thread-mode dispatch: fire → handler start (sequential fires to an idle pool; back to back), throughput (concurrent)",
      ["runner", "runs", "p50 ms", "p99 ms", "runs/s", "p50 vs runlet"],
      rows.map((r) => [r.part === "thread dispatch" ? r.runner : `${r.runner}, back to back`, r.runs, fmt(r.p50Ms, 3), fmt(r.p99Ms, 3), r.runsPerS === undefined ? "" : fmt(r.runsPerS, 0), `${fmt(r.p50Ms / (r.part === "thread dispatch" ? ours.p50 : oursB2b.p50), 2)}×`]),
    );
    console.log(`runlet median latency is ${fmt(theirs.p50 / ours.p50, 0)}× lower than Bree (target ≥ 200×) and ${fmt(ours.p50 / raw.p50, 2)}× raw piscina's (target ≤ 2×; back to back ${fmt(oursB2b.p50 / rawB2b.p50, 2)}×); raw piscina's throughput is ${fmt(rawTput / runletTput, 2)}× runlet's.`);

    rows.push(...(await fanOut(project, smoke)));
  } finally {
    project.remove();
  }
  return rows;
}

/** 1,000 inline jobs on one `* * * * * *`: lateness of each handler start, runlet vs bare node-schedule. */
async function fanOut(project, smoke) {
  const jobs = 1000;
  const seconds = smoke ? 2 : 5;
  const lines = ["version: 1", "jobs:"];
  for (let i = 0; i < jobs; i++) lines.push(`  j${i}: { handler: fan.mjs, schedule: "* * * * * *", lateness: 10s }`);
  writeFileSync(project.path("fan.yaml"), `${lines.join("\n")}\n`);
  writeFileSync(project.path("fan.mjs"), "export default (ctx) => { globalThis.__fan(ctx.fireDate, Date.now()); };\n");

  const runletLate = [];
  let runletFires = 0;
  globalThis.__fan = (fireDate, startedAt) => {
    runletFires++;
    runletLate.push(startedAt - fireDate.getTime());
  };
  const runner = createRunner({ manifest: project.path("fan.yaml"), env: "bench", logger: silentLogger(), store: new MemoryStore({ logger: silentLogger() }) });
  await runner.start();
  await new Promise((r) => setTimeout(r, seconds * 1000 + 300));
  await runner.stop();

  const bareLate = [];
  let bareFires = 0;
  const bareJobs = [];
  for (let i = 0; i < jobs; i++) {
    bareJobs.push(schedule.scheduleJob(`bare-${i}`, "* * * * * *", (fireDate) => {
      bareFires++;
      bareLate.push(Date.now() - fireDate.getTime());
    }));
  }
  await new Promise((r) => setTimeout(r, seconds * 1000 + 300));
  for (const job of bareJobs) job.cancel();

  const ours = summary(runletLate);
  const bare = summary(bareLate);
  const rows = [
    { part: "fan-out 1,000 same-second jobs", runner: "runlet", fires: runletFires, expected: jobs * seconds, p50Ms: ours.p50, p99Ms: ours.p99, maxMs: ours.max },
    { part: "fan-out 1,000 same-second jobs", runner: "bare node-schedule", fires: bareFires, expected: jobs * seconds, p50Ms: bare.p50, p99Ms: bare.p99, maxMs: bare.max },
  ];
  printTable(
    `1,000 inline jobs on "* * * * * *" for ${seconds} s: handler start − scheduled time`,
    ["runner", "runs", "expected", "p50 ms", "p99 ms", "max ms"],
    rows.map((r) => [r.runner, r.fires, `~${r.expected}`, fmt(r.p50Ms, 1), fmt(r.p99Ms, 1), fmt(r.maxMs, 1)]),
  );
  console.log(`runlet p99 ${fmt(ours.p99, 1)} ms (target < 20 ms); bare node-schedule p99 ${fmt(bare.p99, 0)} ms.`);
  return rows;
}

if (process.argv[1]?.endsWith("dispatch.mjs")) {
  await run({ smoke: process.argv.includes("--smoke") });
  process.exit(0);
}
