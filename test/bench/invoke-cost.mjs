// What one inline run costs through Runner.invoke, record to the store included, and what
// it leaves the garbage collector: µs of CPU a run, the main thread's and the process's
// (V8's helper threads collect beside it), lowest round each, and the collections over all rounds, young (scavenges) and whole-heap, with the
// in-memory store and with SQLite (the CLI's). Runs one after another, the event loop let
// through every 100 (as between fires), so the store's deferred work runs as it would.
// Run this same file from each build's checkout to compare builds.
//   npm run build && node test/bench/invoke-cost.mjs [--smoke]
import { readFileSync } from "node:fs";
import { PerformanceObserver, constants } from "node:perf_hooks";
import { dist, fmt, printTable, tempProject } from "./lib.mjs";

const { createRunner } = await import(dist("runner/index.js"));
const { silentLogger } = await import(dist("runner/log/logger.js"));
const { MemoryStore, SqliteStore } = await import(dist("runner/store/index.js"));

/** The main thread's CPU so far, µs (Linux); elsewhere the process's. */
function mainCpuUs() {
  try {
    return Number(readFileSync("/proc/thread-self/schedstat", "utf8").split(" ")[0]) / 1000;
  } catch {
    const u = process.cpuUsage();
    return u.user + u.system;
  }
}

async function measure(project, store, { rounds, runs }) {
  const runner = createRunner({ manifest: project.path("jobs.yaml"), env: "bench", logger: silentLogger(), store });
  await runner.start();
  const invokeRuns = async (n) => {
    for (let i = 0; i < n; i++) {
      await runner.invoke("job");
      if (i % 100 === 99) await new Promise((r) => setImmediate(r));
    }
  };
  const gcs = { minor: 0, major: 0 };
  const count = (entries) => {
    for (const entry of entries) {
      if (entry.detail?.kind === constants.NODE_PERFORMANCE_GC_MINOR) gcs.minor++;
      else if (entry.detail?.kind === constants.NODE_PERFORMANCE_GC_MAJOR) gcs.major++;
    }
  };
  const observer = new PerformanceObserver((list) => count(list.getEntries()));
  try {
    await invokeRuns(runs); // warm-up: the path compiled
    observer.observe({ entryTypes: ["gc"] });
    let best = Infinity;
    let bestProcess = Infinity;
    for (let round = 0; round < rounds; round++) {
      const before = mainCpuUs();
      const processBefore = process.cpuUsage();
      await invokeRuns(runs);
      best = Math.min(best, (mainCpuUs() - before) / runs);
      const used = process.cpuUsage(processBefore);
      bestProcess = Math.min(bestProcess, (used.user + used.system) / runs);
      // SQLite writes in batches: wait for them, so the next round does not pay this one's.
      while (store.pending() > 0) await new Promise((r) => setTimeout(r, 5));
    }
    // Collections not yet handed to the callback are counted too.
    count(observer.takeRecords());
    return { usPerRun: best, processUsPerRun: bestProcess, minor: gcs.minor, major: gcs.major, runs: rounds * runs };
  } finally {
    observer.disconnect();
    await runner.stop();
  }
}

export async function run({ smoke = false } = {}) {
  const sizes = smoke ? { rounds: 3, runs: 5_000 } : { rounds: 15, runs: 20_000 };
  const project = tempProject({
    "jobs.yaml": "version: 1\njobs:\n  job: { handler: h.mjs }\n",
    "h.mjs": "export default () => {};\n",
  });
  try {
    const rows = [];
    for (const [name, open] of [
      ["memory", () => new MemoryStore({ logger: silentLogger() })],
      ["sqlite", () => new SqliteStore(project.path(`runs-${Date.now()}.db`), { logger: silentLogger() })],
    ]) {
      rows.push({ store: name, ...(await measure(project, open(), sizes)) });
    }
    printTable(
      `Inline Runner.invoke, one at a time: CPU a run (lowest of ${sizes.rounds} rounds of ${sizes.runs}) and the collections in all of them`,
      ["store", "main thread µs a run", "process µs a run", "young collections", "whole-heap collections", "runs"],
      rows.map((r) => [r.store, fmt(r.usPerRun, 2), fmt(r.processUsPerRun, 2), r.minor, r.major, r.runs]),
    );
    return rows.map((r) => ({ part: "invoke cost", ...r }));
  } finally {
    project.remove();
  }
}

if (process.argv[1]?.endsWith("invoke-cost.mjs")) {
  await run({ smoke: process.argv.includes("--smoke") });
  process.exit(0);
}
