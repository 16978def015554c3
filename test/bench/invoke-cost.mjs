// What one inline run costs the main thread through Runner.invoke, record to the store
// included, and what it leaves the garbage collector: µs of main-thread CPU a run (lowest
// round) and the collections over all rounds, young (scavenges) and whole-heap, with the
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
  const observer = new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) {
      if (entry.detail?.kind === constants.NODE_PERFORMANCE_GC_MINOR) gcs.minor++;
      else if (entry.detail?.kind === constants.NODE_PERFORMANCE_GC_MAJOR) gcs.major++;
    }
  });
  try {
    await invokeRuns(runs); // warm-up: the path compiled
    observer.observe({ entryTypes: ["gc"] });
    let best = Infinity;
    for (let round = 0; round < rounds; round++) {
      const before = mainCpuUs();
      await invokeRuns(runs);
      best = Math.min(best, (mainCpuUs() - before) / runs);
      // SQLite writes in batches: wait for them, so the next round does not pay this one's.
      while (store.pending() > 0) await new Promise((r) => setTimeout(r, 5));
    }
    return { usPerRun: best, minor: gcs.minor, major: gcs.major, runs: rounds * runs };
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
      `Inline Runner.invoke, one at a time: main-thread CPU a run (lowest of ${sizes.rounds} rounds of ${sizes.runs}) and the collections in all of them`,
      ["store", "µs a run", "young collections", "whole-heap collections", "runs"],
      rows.map((r) => [r.store, fmt(r.usPerRun, 2), r.minor, r.major, r.runs]),
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
