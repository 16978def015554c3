// Run history: how fast the SQLite store records runs, and what it costs dispatch
// compared with the in-memory store, side by side in one run.
//   npm run build && node test/bench/store.mjs [--smoke]
import { writeFileSync } from "node:fs";
import { dist, fmt, printTable, tempProject } from "./lib.mjs";

const { openSqliteStore, MemoryStore } = await import(dist("runner/store/index.js"));
const { Dispatcher } = await import(dist("runner/execute/dispatcher.js"));
const { InlineExecutor } = await import(dist("runner/execute/inline-executor.js"));
const { silentLogger } = await import(dist("runner/log/logger.js"));
const { systemClock } = await import(dist("runner/contracts/index.js"));

const def = (name) => ({
  name, description: "", handler: "h", handlerPath: "h", schedule: null, scheduleSource: null, mode: "inline", enabled: true, params: {}, timeoutMs: null,
  overlap: "allow", retries: { max: 0, backoff: "fixed", delayMs: 1000, maxDelayMs: null }, timezone: null, memoryMb: null, latenessMs: 60_000,
  catchUp: "none", startingDeadlineMs: null, historyKeep: 100, specHash: "0", position: { file: "x", line: 1, col: 1 },
});

/** 100,000 runs recorded as the runner does: `running` at start, the final record at end. */
async function recordRate(store, runs) {
  const t0 = performance.now();
  const perTurn = 100;
  for (let i = 0; i < runs; i += perTurn) {
    const writes = [];
    for (let k = i; k < i + perTurn; k++) {
      const base = { runId: `r${k}`, job: `job-${k % 50}`, scheduledAt: new Date(1_800_000_000_000 + k).toISOString(), attempt: 1, error: null, result: null };
      writes.push(store.record({ ...base, status: "running", startedAt: base.scheduledAt, finishedAt: null, owner: { pid: 1, host: "bench" } }));
      writes.push(store.record({ ...base, status: "ok", startedAt: base.scheduledAt, finishedAt: base.scheduledAt, result: { k }, owner: null }));
    }
    await Promise.all(writes);
  }
  return runs / ((performance.now() - t0) / 1000);
}

/** Runs/s through the dispatcher with records going to `store` (1,000 runs in flight at a time). */
async function dispatchRate(store, project, runs) {
  const dispatcher = new Dispatcher({
    executors: { inline: new InlineExecutor() },
    logger: silentLogger(),
    clock: systemClock,
    env: "bench",
    onRecord: (r) => void store.record({ ...r, owner: null }),
  });
  const jobs = Array.from({ length: 1000 }, (_, i) => ({ def: def(`job-${i}`), modulePath: project.path("h.mjs") }));
  const t0 = performance.now();
  for (let done = 0; done < runs; done += jobs.length) await Promise.all(jobs.map((job) => dispatcher.fire(job, new Date())));
  const rate = runs / ((performance.now() - t0) / 1000);
  return rate;
}

export async function run({ smoke = false } = {}) {
  const runs = smoke ? 10_000 : 100_000;
  const project = tempProject({});
  writeFileSync(project.path("h.mjs"), "export default () => ({ ok: true });\n");
  const rows = [];
  try {
    const sqlite = await openSqliteStore(project.path("runs.db"), { logger: silentLogger() });
    const recorded = await recordRate(sqlite, runs);
    await sqlite.close();
    rows.push({ part: "record", store: "sqlite", runs, runsPerS: recorded });

    // Interleaved rounds so machine load drifts hit both alike; best of each.
    const rates = { memory: [], sqlite: [] };
    for (let round = 0; round < 3; round++) {
      for (const kind of ["memory", "sqlite"]) {
        const store = kind === "memory" ? new MemoryStore({ logger: silentLogger() }) : await openSqliteStore(project.path(`d${round}.db`), { logger: silentLogger() });
        rates[kind].push(await dispatchRate(store, project, runs / 5));
        await store.close();
      }
    }
    const memory = Math.max(...rates.memory);
    const sqliteRate = Math.max(...rates.sqlite);
    rows.push({ part: "dispatch", store: "memory", runsPerS: memory }, { part: "dispatch", store: "sqlite", runsPerS: sqliteRate, costVsMemory: 1 - sqliteRate / memory });
  } finally {
    project.remove();
  }
  printTable("Run history", ["measure", "store", "runs/s", "cost vs memory"], rows.map((r) => [r.part === "record" ? `record ${r.runs} runs (start + end)` : "dispatch throughput, inline", r.store, fmt(r.runsPerS, 0), r.costVsMemory === undefined ? "" : `${fmt(r.costVsMemory * 100, 1)}%`]));
  const cost = rows.find((r) => r.costVsMemory !== undefined).costVsMemory;
  console.log(`The SQLite store costs ${fmt(cost * 100, 1)}% of dispatch throughput (target < 10%).`);
  return rows;
}

if (process.argv[1]?.endsWith("store.mjs")) {
  await run({ smoke: process.argv.includes("--smoke") });
  process.exit(0);
}
