// What a thread-mode run costs the main thread, in CPU time rather than latency (which
// moves with when the process gets a core, on a machine shared with other work): the main
// thread's own CPU (Linux /proc/thread-self/schedstat, ns; elsewhere process.cpuUsage,
// which adds the workers' time) per run, side by side in one process with raw piscina:
//   raw piscina      a pool whose worker imports the handler (cached) and calls it: the floor
//   executor         ThreadExecutor.run() alone (abort wiring, pool queue, worker links)
//   dispatcher       Dispatcher.invoke() over it (run bookkeeping, records to a no-op)
//   runner           Runner.invoke() of a manifest's thread job: the whole path (records
//                    in a MemoryStore, run events, run-log capture), logging nowhere
//   runner, nice 0   the same with the workers at the main thread's CPU priority rather
//                    than the default +10 (ThreadExecutor's workerNice): what the priority
//                    costs (see worker-priority.mjs for what it buys)
// Each one at a time (the worker idles between runs, as between fires) and 100 at once.
// The rows take turns within each round; the lowest round of each is its figure (the
// others had the CPU taken from them). On Linux the process is pinned to one core
// (taskset) where it can be: on two cores the figures moved by ±3 µs from one process to
// the next with the machine's load, pinned by ±0.5 µs (the main thread and the workers
// then take turns, so a worker's own time is not in them). Run this same file from each
// build's checkout to compare builds.
//   npm run build && node test/bench/thread-cost.mjs [--smoke] [--unpinned]
import { spawnSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { Piscina } from "piscina";
import { dist, fmt, printTable, tempProject } from "./lib.mjs";

const { Dispatcher } = await import(dist("runner/execute/dispatcher.js"));
const { ThreadExecutor } = await import(dist("runner/execute/thread-executor.js"));
const { InlineExecutor } = await import(dist("runner/execute/inline-executor.js"));
const { silentLogger } = await import(dist("runner/log/logger.js"));
const { createRunner } = await import(dist("runner/index.js"));
const { MemoryStore } = await import(dist("runner/store/index.js"));

const HANDLER = "export default (ctx) => ({ ok: true, attempt: ctx.attempt });\n";
const RAW_WORKER = `import { pathToFileURL } from "node:url";
const cache = new Map();
export default async (task) => {
  let mod = cache.get(task.modulePath);
  if (!mod) cache.set(task.modulePath, (mod = await import(pathToFileURL(task.modulePath).href)));
  return { ok: true, value: await mod.default({ attempt: task.attempt }) };
};
`;
const BATCH = 100;

/** The main thread's CPU time so far, µs. */
const mainCpu = (() => {
  try {
    readFileSync("/proc/thread-self/schedstat", "utf8");
    return { what: "main thread", us: () => Number(readFileSync("/proc/thread-self/schedstat", "utf8").split(" ")[0]) / 1000 };
  } catch {
    return { what: "whole process (no schedstat here)", us: () => { const u = process.cpuUsage(); return u.user + u.system; } };
  }
})();

function jobDef(name) {
  return {
    name, description: "", handler: "h", handlerPath: "h", schedule: null, scheduleSource: null, mode: "thread", enabled: true, params: {},
    timeoutMs: null, overlap: "allow", retries: { max: 0, backoff: "fixed", delayMs: 1000, maxDelayMs: null }, timezone: null, memoryMb: null,
    latenessMs: 60_000, catchUp: "none", startingDeadlineMs: null, historyKeep: 100, specHash: "0", position: { file: "x", line: 1, col: 1 },
  };
}

/** µs of main-thread CPU per run of `fire`, `n` runs one at a time or BATCH at once. */
async function cpuPerRun(fire, n, together) {
  const t0 = mainCpu.us();
  if (together) {
    for (let done = 0; done < n; done += BATCH) await Promise.all(Array.from({ length: BATCH }, (_, i) => fire(done + i)));
  } else {
    for (let i = 0; i < n; i++) await fire(i);
  }
  return (mainCpu.us() - t0) / n;
}

export async function run({ smoke = false, unpinned = false } = {}) {
  const pinned = unpinned ? null : runPinned(smoke);
  if (pinned) return pinned;
  return measure(smoke, unpinned ? "" : " (not pinned: no taskset here)");
}

/** The rows of this file run again under `taskset -c 0`, or null where that cannot be. */
function runPinned(smoke) {
  if (process.platform !== "linux" || process.env.RUNLET_BENCH_PINNED) return null;
  const out = tempProject();
  try {
    const args = ["-c", "0", process.execPath, fileURLToPath(import.meta.url), ...(smoke ? ["--smoke"] : [])];
    const child = spawnSync("taskset", args, { stdio: "inherit", env: { ...process.env, RUNLET_BENCH_PINNED: out.path("rows.json") } });
    if (child.error) return null;
    if (child.status !== 0) throw new Error(`thread-cost child exited ${child.status}`);
    return JSON.parse(readFileSync(out.path("rows.json"), "utf8"));
  } finally {
    out.remove();
  }
}

async function measure(smoke, note) {
  const rounds = smoke ? 5 : 20;
  const n = smoke ? 200 : 400;
  const project = tempProject({ "h.mjs": HANDLER, "raw-worker.mjs": RAW_WORKER, "jobs.yaml": "version: 1\njobs:\n  t: { handler: h.mjs, mode: thread }\n" });
  const handler = project.path("h.mjs");
  // As runlet's pools are: 2 threads, idle workers waiting with Atomics.waitAsync.
  const raw = new Piscina({ filename: project.path("raw-worker.mjs"), atomics: "async", minThreads: 0, maxThreads: 2, idleTimeout: 120_000, recordTiming: false });
  const thread = new ThreadExecutor({ logger: silentLogger(), maxThreads: 2 });
  const threadForDispatch = new ThreadExecutor({ logger: silentLogger(), maxThreads: 2 });
  const dispatcher = new Dispatcher({ executors: { inline: new InlineExecutor(), thread: threadForDispatch }, logger: silentLogger(), clock: { now: () => Date.now(), setTimeout: (fn, ms) => setTimeout(fn, ms), clearTimeout: (t) => clearTimeout(t) }, env: "bench", onRecord: () => {} });
  const runner = createRunner({ manifest: project.path("jobs.yaml"), env: "bench", logger: silentLogger(), store: new MemoryStore({ logger: silentLogger() }) });
  const atNiceZero = createRunner({ manifest: project.path("jobs.yaml"), env: "bench", logger: silentLogger(), store: new MemoryStore({ logger: silentLogger() }), executors: { thread: new ThreadExecutor({ logger: silentLogger(), workerNice: 0 }) } });
  await runner.start();
  await atNiceZero.start();
  // The dispatcher hands its runs' aborts as an AbortSource (a signal only when read): so does this row.
  const aborts = { aborted: false, reason: undefined, subscribe() {}, unsubscribe() {} };
  const signal = new AbortController().signal;
  const log = silentLogger();
  const job = { def: jobDef("bench"), modulePath: handler };
  const rows = {
    "raw piscina": (i) => raw.run({ modulePath: handler, attempt: i }),
    executor: (i) => thread.run({ job: "bench", runId: `r${i}`, modulePath: handler, fireDate: new Date(), attempt: 1, params: null, env: "bench", trigger: { kind: "invoke" }, signal, aborts, log, memoryMb: null }),
    dispatcher: () => dispatcher.invoke(job),
    runner: () => runner.invoke("t"),
    "runner, nice 0": () => atNiceZero.invoke("t"),
  };
  const best = { one: {}, batch: {} };
  try {
    for (const fire of Object.values(rows)) for (let i = 0; i < 200; i++) await fire(i); // warm-up: workers up, code optimized
    for (let round = 0; round < rounds; round++) {
      for (const [mode, together] of [["one", false], ["batch", true]]) {
        for (const [name, fire] of Object.entries(rows)) {
          const us = await cpuPerRun(fire, n, together);
          best[mode][name] = Math.min(best[mode][name] ?? Infinity, us);
        }
      }
    }
  } finally {
    await runner.stop();
    await atNiceZero.stop();
    await Promise.all([raw.destroy(), thread.close(), threadForDispatch.close()]);
    project.remove();
  }
  const floor = (mode) => best[mode]["raw piscina"];
  printTable(
    `Thread-mode runs: ${mainCpu.what} CPU per run, µs (lowest of ${rounds} rounds of ${n} runs${process.env.RUNLET_BENCH_PINNED ? ", pinned to one core" : note})`,
    ["path", "one at a time", "× raw", `${BATCH} at once`, "× raw"],
    Object.keys(rows).map((name) => [name, fmt(best.one[name], 1), `${fmt(best.one[name] / floor("one"), 2)}×`, fmt(best.batch[name], 1), `${fmt(best.batch[name] / floor("batch"), 2)}×`]),
  );
  const out = Object.keys(rows).flatMap((name) => [
    { part: "thread cost", path: name, mode: "one at a time", cpuUsPerRun: best.one[name], vsRaw: best.one[name] / floor("one") },
    { part: "thread cost", path: name, mode: `${BATCH} at once`, cpuUsPerRun: best.batch[name], vsRaw: best.batch[name] / floor("batch") },
  ]);
  if (process.env.RUNLET_BENCH_PINNED) writeFileSync(process.env.RUNLET_BENCH_PINNED, JSON.stringify(out));
  return out;
}

if (process.argv[1]?.endsWith("thread-cost.mjs")) {
  if (process.env.RUNLET_BENCH_PINNED) await measure(process.argv.includes("--smoke"), "");
  else await run({ smoke: process.argv.includes("--smoke"), unpinned: process.argv.includes("--unpinned") });
  process.exit(0);
}
