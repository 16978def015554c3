// Does a run that logs 10,000 lines make another job late? One `flood` job logs 10,000
// ctx.log lines each second (inline, or in a worker thread); ten inline `tick` jobs fire
// every 100 ms and note their lateness (handler start − scheduled time). Capture on (the
// flood's lines kept: encoded, bounded to the last 1,000 / 256 KiB, written to SQLite with
// the run) against capture off (`logs: { level: fatal }` on the flood: its lines pass the
// same ctx.log and none is kept), in alternating child processes of one invocation.
//   npm run build && node test/bench/run-logs-flood.mjs [--smoke] [--seconds N] [--rounds N]
import { fileURLToPath } from "node:url";
import { dist, fmt, lateWindow, machine, printTable, runBenchChild, summary } from "./lib.mjs";

const LINES = 10_000;
const TICKS = 10;
const flood = `export default (ctx) => { for (let i = 0; i < ${LINES}; i++) ctx.log.info({ i, table: "invoices" }, "row imported"); };\n`;
const tick = `export default (ctx) => { globalThis.__late?.(ctx.fireDate.getTime(), Date.now()); };\n`;

function manifest(capture, mode) {
  const lines = ["version: 1", "jobs:", `  flood: { handler: jobs/flood.mjs, mode: ${mode}, schedule: "* * * * * *", logs: { level: ${capture ? "info" : "fatal"} } }`];
  for (let i = 0; i < TICKS; i++) lines.push(`  tick${i}: { handler: jobs/tick.mjs, schedule: { every: 100ms } }`);
  return `${lines.join("\n")}\n`;
}

/** Child: one runner, one window; prints its figures as JSON on stdout. */
async function child(dir, seconds) {
  const { createRunner } = await import(dist("runner/index.js"));
  const { openSqliteStore } = await import(dist("runner/store/sqlite-store.js"));
  const { silentLogger } = await import(dist("runner/log/logger.js"));
  const store = await openSqliteStore(`${dir}/runs.db`, { logger: silentLogger(), keepFor: () => 10 });
  const runner = createRunner({ manifest: `${dir}/jobs.yaml`, env: "bench", store, logger: silentLogger() });
  const window = lateWindow();
  let floods = 0;
  let keptLines = 0;
  runner.on("logs", (logs) => {
    if (logs.job === "flood" && Date.now() >= window.start && Date.now() < window.end + 1000) {
      floods++;
      keptLines += logs.lines.length;
    }
  });
  await runner.start();
  await window.open(seconds);
  await runner.stop();
  process.stdout.write(JSON.stringify({ late: window.late, floods, keptLines }));
}

function runChild(capture, mode, seconds) {
  return runBenchChild(import.meta.url, { "jobs/flood.mjs": flood, "jobs/tick.mjs": tick, "jobs.yaml": manifest(capture, mode) }, [seconds], `${mode}, capture ${capture ? "on" : "off"}`);
}

export async function run({ smoke = false, seconds = smoke ? 2 : 5, rounds = smoke ? 1 : 2 } = {}) {
  const rows = [];
  for (const mode of ["inline", "thread"]) {
    const by = { off: [], on: [] };
    for (let round = 0; round < rounds; round++) {
      for (const capture of round % 2 === 0 ? [false, true] : [true, false]) by[capture ? "on" : "off"].push(await runChild(capture, mode, seconds));
    }
    for (const variant of ["off", "on"]) {
      const s = summary(by[variant].flatMap((r) => r.late));
      const floods = by[variant].reduce((n, r) => n + r.floods, 0);
      const kept = by[variant].reduce((n, r) => n + r.keptLines, 0);
      rows.push({ part: "run-logs-flood", mode, variant, ticks: s.n, p50: s.p50, p99: s.p99, max: s.max, floods, keptPerFlood: floods ? kept / floods : 0 });
    }
  }
  printTable(
    `A run logging ${LINES.toLocaleString("en")} lines each second beside ${TICKS} inline jobs every 100 ms, SQLite store; ${rounds} × ${seconds} s per variant, alternating (${machine()})`,
    ["flood mode", "capture", "tick runs", "tick lateness p50 ms", "p99 ms", "max ms", "flood runs kept", "lines kept per run"],
    rows.map((r) => [r.mode, r.variant, r.ticks, fmt(r.p50), fmt(r.p99), fmt(r.max), r.floods, fmt(r.keptPerFlood, 0)]),
  );
  return rows;
}

const argv = process.argv.slice(2);
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
