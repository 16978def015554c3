// Runs queued for a thread: in what order they start, and how fast they go, when 5,000 are
// handed over at once to 2 threads. Raw piscina 5.3.2 with its own queue (default, and
// `stricterFIFO`), each with and without a per-task abort signal (runlet passes one with
// every task: piscina terminates a worker through it), against runlet's thread executor,
// which holds runs in its own WaitQueue (runner/execute/wait-queue.ts) and hands piscina
// one per free thread. "Late": runs whose handler started 4 or more places after their
// turn (two threads start runs side by side, so neighbours swap by microseconds in any queue).
//   npm run build && node test/bench/thread-queue.mjs [--smoke]
import { Piscina } from "piscina";
import { dist, fmt, printTable, summary, tempProject } from "./lib.mjs";

const { ThreadExecutor } = await import(dist("runner/execute/thread-executor.js"));
const { silentLogger } = await import(dist("runner/log/logger.js"));

const HANDLER = "export default (arg) => ({ i: (arg.params ?? arg).i, t: Number(process.hrtime.bigint()) });\n";

/**
 * How far runs started from their turn: the share that started 4 or more places after it
 * (two threads starting side by side swap neighbours by microseconds in any queue), and
 * the largest such delay, in places.
 */
function displacement(results) {
  const byStart = [...results].sort((a, b) => (a.t < b.t ? -1 : a.t > b.t ? 1 : 0));
  let late = 0;
  let most = 0;
  byStart.forEach(({ i }, rank) => {
    if (rank - i >= 4) late++;
    most = Math.max(most, rank - i);
  });
  return { late: late / results.length, most };
}

export async function run({ smoke = false } = {}) {
  const n = smoke ? 1000 : 5000;
  const rounds = smoke ? 2 : 5;
  const project = tempProject({ "h.mjs": HANDLER });
  const rawPool = (stricterFIFO) => new Piscina({ filename: project.path("h.mjs"), atomics: "async", maxThreads: 2, minThreads: 2, stricterFIFO });
  const executor = new ThreadExecutor({ logger: silentLogger(), maxThreads: 2 });
  const request = (i) => ({ job: "bench", runId: `r${i}`, modulePath: project.path("h.mjs"), fireDate: new Date(), attempt: 1, params: { i }, env: "bench", trigger: { kind: "schedule" }, signal: new AbortController().signal, log: silentLogger(), memoryMb: null });
  const pools = { fifo: rawPool(false), strict: rawPool(true) };
  // A signal of its own per task, as runlet's executor gives piscina (its kill switch).
  const withSignal = (pool) => (i) => pool.run({ i }, { signal: new AbortController().signal });
  const variants = [
    ["raw piscina, no signal", (i) => pools.fifo.run({ i })],
    ["raw piscina, signal per task", withSignal(pools.fifo)],
    ["raw piscina stricterFIFO, no signal", (i) => pools.strict.run({ i })],
    ["raw piscina stricterFIFO, signal per task", withSignal(pools.strict)],
    ["runlet thread executor (WaitQueue)", (i) => executor.run(request(i))],
  ];
  const rows = [];
  try {
    for (const [, fire] of variants) await Promise.all(Array.from({ length: 200 }, (_, i) => fire(i)));
    const figures = new Map(variants.map(([name]) => [name, { rates: [], late: [], most: [] }]));
    // Variants take turns, round after round, so a drift in the machine's speed hits each alike.
    for (let round = 0; round < rounds; round++) {
      for (const [name, fire] of variants) {
        const t0 = performance.now();
        const results = await Promise.all(Array.from({ length: n }, (_, i) => fire(i)));
        figures.get(name).rates.push(n / ((performance.now() - t0) / 1000));
        const { late, most } = displacement(results);
        figures.get(name).late.push(late);
        figures.get(name).most.push(most);
      }
    }
    for (const [name] of variants) {
      const { rates, late, most } = figures.get(name);
      rows.push({ part: "thread queue", runner: name, runs: n, runsPerS: summary(rates).p50, startedLate: summary(late).p50, mostPlacesLate: summary(most).max });
    }
    printTable(
      `${n} runs handed to 2 threads at once (${rounds} rounds): throughput and order`,
      ["queue", "runs/s (median)", "started 4+ places late", "most places late"],
      rows.map((r) => [r.runner, fmt(r.runsPerS, 0), `${fmt(r.startedLate * 100, 1)}%`, r.mostPlacesLate]),
    );
  } finally {
    await Promise.all([pools.fifo.destroy(), pools.strict.destroy(), executor.close()]);
    project.remove();
  }
  return rows;
}

if (process.argv[1]?.endsWith("thread-queue.mjs")) {
  await run({ smoke: process.argv.includes("--smoke") });
  process.exit(0);
}
