// Run-log capture's cost on dispatch: 1,000 inline jobs on "* * * * * *", each run logging
// 3 lines through ctx.log, into a SQLite store. Capture on (the default: lines kept with
// each run) against capture off (`logs: { level: fatal }`: the lines pass the same ctx.log,
// none is kept), in alternating child processes of one invocation, so machine drift hits
// both alike. Lateness = handler start − scheduled time; store throughput = run records
// and run logs written per second of the window, and what was still queued at its end.
//   npm run build && node test/bench/run-logs.mjs [--smoke] [--seconds N] [--rounds N]
// RUNLET_BENCH_STORE=memory runs both variants on the memory store instead (capture's own
// cost, without the SQLite writes of the lines).
import { fileURLToPath } from "node:url";
import { dist, fmt, lateWindow, machine, printTable, runBenchChild, summary } from "./lib.mjs";

const JOBS = 1000;
const handler = `export default (ctx) => {
  globalThis.__late?.(ctx.fireDate.getTime(), Date.now());
  ctx.log.info({ n: ctx.params.n }, "starting");
  ctx.log.info({ rows: 3 }, "fetched");
  ctx.log.info("done");
};\n`;

function manifest(capture) {
  const lines = ["version: 1", "defaults:", `  logs: { level: ${capture ? "info" : "fatal"} }`, "jobs:"];
  for (let i = 0; i < JOBS; i++) lines.push(`  j${i}: { handler: jobs/h.mjs, schedule: "* * * * * *", params: { n: ${i} } }`);
  return `${lines.join("\n")}\n`;
}

/** Child: one runner, one window; prints its figures as JSON on stdout. */
async function child(dir, seconds) {
  const { createRunner } = await import(dist("runner/index.js"));
  const { openSqliteStore } = await import(dist("runner/store/sqlite-store.js"));
  const { silentLogger } = await import(dist("runner/log/logger.js"));
  const { MemoryStore } = await import(dist("runner/store/memory-store.js"));
  const store = process.env.RUNLET_BENCH_STORE === "memory" ? new MemoryStore({ logger: silentLogger(), keepFor: () => 10 }) : await openSqliteStore(`${dir}/runs.db`, { logger: silentLogger(), keepFor: () => 10 });
  // Logs nowhere, as the other dispatch benches: what is measured is capture, not pino writing to stderr.
  const runner = createRunner({ manifest: `${dir}/jobs.yaml`, env: "bench", store, logger: silentLogger() });
  const window = lateWindow();
  let ended = 0;
  let keptLogs = 0;
  runner.on("record", (r) => {
    if (r.status !== "running" && window.holds(Date.parse(r.scheduledAt))) ended++;
  });
  runner.on("logs", () => {
    if (window.holds(Date.now())) keptLogs++;
  });
  await runner.start();
  await window.open(seconds);
  const queuedAtEnd = store.pending();
  const t0 = performance.now();
  await runner.stop();
  const drainMs = performance.now() - t0;
  process.stdout.write(JSON.stringify({ late: window.late, ended, keptLogs, queuedAtEnd, drainMs, seconds }));
}

function runChild(capture, seconds) {
  return runBenchChild(import.meta.url, { "jobs/h.mjs": handler, "jobs.yaml": manifest(capture) }, [seconds], `capture ${capture ? "on" : "off"}`);
}

export async function run({ smoke = false, seconds = smoke ? 2 : 5, rounds = smoke ? 1 : 2 } = {}) {
  const by = { off: [], on: [] };
  for (let round = 0; round < rounds; round++) {
    for (const capture of round % 2 === 0 ? [false, true] : [true, false]) by[capture ? "on" : "off"].push(await runChild(capture, seconds));
  }
  const rows = [];
  const p99 = {};
  for (const variant of ["off", "on"]) {
    const results = by[variant];
    const s = summary(results.flatMap((r) => r.late));
    p99[variant] = s.p99;
    const windowS = results.reduce((n, r) => n + r.seconds, 0);
    const runsPerS = results.reduce((n, r) => n + r.ended, 0) / windowS;
    const logsPerS = results.reduce((n, r) => n + r.keptLogs, 0) / windowS;
    rows.push({ variant, runs: s.n, p50: s.p50, p99: s.p99, max: s.max, runsPerS, logsPerS, queuedAtEnd: Math.max(...results.map((r) => r.queuedAtEnd)), drainMs: Math.max(...results.map((r) => r.drainMs)) });
  }
  printTable(
    `Run-log capture: ${JOBS} inline jobs each second, 3 ctx.log lines a run, SQLite store; ${rounds} × ${seconds} s per variant, alternating (${machine()})`,
    ["capture", "runs", "lateness p50 ms", "p99 ms", "max ms", "records/s", "run logs/s", "queued at end", "stop drain ms"],
    rows.map((r) => [r.variant, r.runs, fmt(r.p50), fmt(r.p99), fmt(r.max), fmt(r.runsPerS, 0), fmt(r.logsPerS, 0), r.queuedAtEnd, fmt(r.drainMs, 0)]),
  );
  const ratio = p99.on / p99.off;
  // Per round too: on a shared machine one stalled second can decide a pooled p99, so the
  // median of the rounds' ratios (each round runs both variants back to back) is printed beside it.
  const perRound = by.on.map((on, i) => summary(on.late).p99 / summary(by.off[i].late).p99);
  const median = [...perRound].sort((a, b) => a - b)[Math.floor(perRound.length / 2)];
  console.log(`\np99 lateness, capture on / off: ${fmt(ratio)}× pooled; per round ${perRound.map((r) => `${fmt(r)}×`).join(", ")}, median ${fmt(median)}× (target ≤ 1.2×)`);
  return rows.map((r) => ({ part: "run-logs", ...r, p99Ratio: ratio, p99RatioMedian: median }));
}

const argv = process.argv.slice(2);
// Only when this file is the program: run.mjs imports it from a process whose own
// arguments also start with --child (run.mjs's child), which is not this file's child.
const isMain = process.argv[1] === fileURLToPath(import.meta.url);
if (isMain && argv[0] === "--child") {
  await child(argv[1], Number(argv[2]));
} else if (isMain) {
  const flag = (name) => {
    const i = argv.indexOf(name);
    return i >= 0 ? Number(argv[i + 1]) : undefined;
  };
  await run({ smoke: argv.includes("--smoke"), ...(flag("--seconds") ? { seconds: flag("--seconds") } : {}), ...(flag("--rounds") ? { rounds: flag("--rounds") } : {}) });
}
