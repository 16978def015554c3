// Handler faults beside a clean job, on the real CLI: one `runlet start` runs only a clean
// every-second inline job; then another runs the same job beside every handler fault runlet
// contains, inline and in threads, firing every one to five seconds. Printed, for the fault
// phase: runner restarts, runs left unrecorded, failures charged to a job whose code did
// not raise them (or not of the kind its fault raises), and the clean job's lateness in both
// phases (same bench run, same machine load).
//   npm run build && node test/bench/handler-faults.mjs [--smoke] [--seconds N] [--only JOB,JOB]
import { spawn, spawnSync } from "node:child_process";
import { openSync, closeSync } from "node:fs";
import { dist, fmt, printTable, summary, tempProject } from "./lib.mjs";

const cli = dist("runner/cli/main.js");

const HANDLERS = {
  "jobs/clean.ts": `export default () => "clean";\n`,
  "jobs/timer-throw.ts": `export default () => { setTimeout(() => { throw new Error("timer-throw: thrown after the run"); }, 200); return "returned"; };\n`,
  "jobs/timer-reject.ts": `export default async () => { setTimeout(() => { Promise.reject(new Error("timer-reject: rejected after the run")); }, 200); return "returned"; };\n`,
  "jobs/exit.ts": `export default async () => { await new Promise((r) => setTimeout(r, 5)); process.exit(3); };\n`,
  "jobs/during.ts": `export default () => new Promise((resolve) => { setTimeout(() => { throw new Error("during: thrown while the run waits"); }, 20); setTimeout(resolve, 300); });\n`,
  "jobs/freeze-clock.ts": `export default () => { Date.now = () => 0; return "froze"; };\n`,
  "jobs/read-clock.ts": `export default () => { if (Date.now() === 0) throw new Error("read-clock: saw another job's Date.now"); return Date.now(); };\n`,
  "jobs/buffer-hog.ts": `export default (ctx) => Buffer.alloc(ctx.params.mb * 1024 * 1024, 1).length;\n`,
  "jobs/big-result.ts": `export default (ctx) => "r".repeat(ctx.params.mb * 1024 * 1024);\n`,
  "jobs/chatty.ts": `export default (ctx) => { for (let i = 0; i < ctx.params.lines; i++) ctx.log.info({ i }, "chatty line"); return ctx.params.lines; };\n`,
  "jobs/busy.ts": `export default (ctx) => { const end = Date.now() + ctx.params.ms; while (Date.now() < end) {} return "busy"; };\n`,
  "jobs/loop.ts": `export default () => { for (;;) {} };\n`,
};

/** Each fault job: its handler, how it runs, and the error codes its runs may end with (anything else is mis-charged). */
function faultJobs(smoke) {
  const mb = smoke ? { buffer: 200, result: 40, lines: 100_000 } : { buffer: 500, result: 200, lines: 1_000_000 };
  return {
    "i-timer-throw": { yaml: `{ handler: jobs/timer-throw.ts, schedule: "* * * * * *" }`, codes: ["JOB_STRAY_ERROR"] },
    "i-timer-reject": { yaml: `{ handler: jobs/timer-reject.ts, schedule: "* * * * * *" }`, codes: ["JOB_STRAY_ERROR"] },
    "i-exit": { yaml: `{ handler: jobs/exit.ts, schedule: "*/2 * * * * *" }`, codes: ["JOB_EXITED"] },
    "i-during": { yaml: `{ handler: jobs/during.ts, schedule: "*/2 * * * * *" }`, codes: ["JOB_FAILED"] },
    "t-timer-throw": { yaml: `{ handler: jobs/timer-throw.ts, mode: thread, schedule: "* * * * * *" }`, codes: ["JOB_STRAY_ERROR"] },
    "t-timer-reject": { yaml: `{ handler: jobs/timer-reject.ts, mode: thread, schedule: "* * * * * *" }`, codes: ["JOB_STRAY_ERROR"] },
    "t-exit": { yaml: `{ handler: jobs/exit.ts, mode: thread, schedule: "*/2 * * * * *" }`, codes: ["JOB_EXITED"] },
    "t-globals": { yaml: `{ handler: jobs/freeze-clock.ts, mode: thread, schedule: "* * * * * *" }`, codes: [] },
    "t-reader": { yaml: `{ handler: jobs/read-clock.ts, mode: thread, schedule: "* * * * * *" }`, codes: [] },
    "t-buffer": { yaml: `{ handler: jobs/buffer-hog.ts, mode: thread, memory: 64, schedule: "*/3 * * * * *", params: { mb: ${mb.buffer} } }`, codes: ["JOB_OUT_OF_MEMORY"] },
    "t-result": { yaml: `{ handler: jobs/big-result.ts, mode: thread, schedule: "*/3 * * * * *", params: { mb: ${mb.result} } }`, codes: [] },
    "t-logs": { yaml: `{ handler: jobs/chatty.ts, mode: thread, schedule: "*/3 * * * * *", params: { lines: ${mb.lines} } }`, codes: [] },
    // Keeps a thread busy 2.5 s of every 4: runs of other thread jobs wait, some past their lateness.
    "t-busy": { yaml: `{ handler: jobs/busy.ts, mode: thread, overlap: allow, schedule: "*/4 * * * * *", params: { ms: 2500 } }`, codes: [] },
    "t-loop": { yaml: `{ handler: jobs/loop.ts, mode: thread, timeout: 300ms, schedule: "*/5 * * * * *" }`, codes: ["JOB_TIMEOUT", "JOB_CANCELLED"] },
  };
}

function manifest(jobs) {
  const lines = ["version: 1", "defaults: { history: { keep: 100000 } }", "jobs:", `  clean: { handler: jobs/clean.ts, schedule: "* * * * * *" }`];
  for (const [name, job] of Object.entries(jobs)) lines.push(`  ${name}: ${job.yaml}`);
  return `${lines.join("\n")}\n`;
}

/** Runs `runlet start` for `seconds`, restarting it if it ends on its own (counted), then stops it with SIGTERM. */
async function runFor(project, seconds) {
  const log = openSync(project.path("runner.log"), "a");
  let restarts = 0;
  let stopping = false;
  let child;
  let exited;
  const launch = () => {
    child = spawn(process.execPath, [cli, "start"], { cwd: project.dir, stdio: ["ignore", "ignore", log], env: { ...process.env, LOG_LEVEL: "info" } });
    exited = new Promise((resolve) => child.on("exit", (code, signal) => resolve({ code, signal })));
    exited.then(() => {
      if (stopping) return;
      restarts++;
      launch();
    });
  };
  launch();
  await new Promise((r) => setTimeout(r, seconds * 1000));
  stopping = true;
  child.kill("SIGTERM");
  const { code } = await exited;
  closeSync(log);
  return { restarts, exitCode: code };
}

function history(project) {
  const out = spawnSync(process.execPath, [cli, "history", "--json", "--limit", "1000000"], { cwd: project.dir, encoding: "utf8", maxBuffer: 512 * 1024 * 1024 });
  if (out.status !== 0) throw new Error(`runlet history failed (${out.status}): ${out.stderr}`);
  return JSON.parse(out.stdout);
}

/** Seconds of each phase not measured: the runner compiles, opens its store and starts its first workers. */
const WARM_UP_MS = 3000;

/** The clean job's lateness after the warm-up: handler start − scheduled time, ms. */
function cleanLateness(records) {
  const clean = records.filter((r) => r.job === "clean" && r.status === "ok");
  const from = Math.min(...clean.map((r) => Date.parse(r.scheduledAt))) + WARM_UP_MS;
  return summary(clean.filter((r) => Date.parse(r.scheduledAt) >= from).map((r) => Date.parse(r.startedAt) - Date.parse(r.scheduledAt)));
}

/** A fire of the clean job is unrecorded if its second, between its first and last recorded one, has no record. */
function missingCleanFires(records) {
  const seconds = new Set(records.filter((r) => r.job === "clean").map((r) => Date.parse(r.scheduledAt)));
  if (seconds.size === 0) return 0;
  const first = Math.min(...seconds);
  const last = Math.max(...seconds);
  let missing = 0;
  for (let s = first; s <= last; s += 1000) if (!seconds.has(s)) missing++;
  return missing;
}

/** Failures charged to a job that did not raise them: the clean job's and the reader's, any of another kind than the job's fault, or whose stack names another job's handler. */
function misCharged(records, jobs) {
  const handlerOf = (job) => (job === "clean" ? "jobs/clean.ts" : /handler: (jobs\/[\w-]+\.ts)/.exec(jobs[job].yaml)[1]);
  const out = [];
  for (const r of records) {
    if (!["failed", "timeout", "lost", "cancelled"].includes(r.status)) continue;
    const job = jobs[r.job];
    const expected = job ? job.codes : [];
    const code = r.error?.code ?? (r.status === "timeout" ? "JOB_TIMEOUT" : undefined);
    const otherHandler = Object.keys(HANDLERS).find((file) => file !== handlerOf(r.job) && r.error?.stack?.includes(file.slice(5)));
    if (!expected.includes(code) || otherHandler) out.push({ job: r.job, status: r.status, code, message: r.error?.message?.slice(0, 160) });
  }
  return out;
}

export async function run({ smoke = false, seconds, only } = {}) {
  const cleanSeconds = seconds ?? (smoke ? 10 : 90);
  const faultSeconds = seconds ?? (smoke ? 12 : 150);
  // --only a,b: just those fault jobs, to find which one costs the clean job its lateness.
  const jobs = Object.fromEntries(Object.entries(faultJobs(smoke)).filter(([name]) => !only || only.includes(name)));

  const clean = tempProject({ ...HANDLERS, "jobs.yaml": manifest({}) });
  const faulty = tempProject({ ...HANDLERS, "jobs.yaml": manifest(jobs) });
  try {
    const quiet = await runFor(clean, cleanSeconds);
    const loud = await runFor(faulty, faultSeconds);
    const quietRecords = history(clean);
    const records = history(faulty);

    const unrecorded = records.filter((r) => r.status === "running").length + missingCleanFires(records);
    const wrong = misCharged(records, jobs);
    const byJob = Object.keys(jobs).map((job) => {
      const mine = records.filter((r) => r.job === job);
      const count = (status) => mine.filter((r) => r.status === status).length;
      const codes = [...new Set(mine.map((r) => r.error?.code).filter(Boolean))].join(" ");
      return [job, mine.length, count("ok"), count("failed") + count("timeout") + count("cancelled"), count("skipped"), codes];
    });
    printTable(`Fault runs (${faultSeconds} s beside the clean job)`, ["job", "runs", "ok", "failed", "skipped", "codes"], byJob);

    const quietLate = cleanLateness(quietRecords);
    const loudLate = cleanLateness(records);
    const rows = [
      ["runner restarts", quiet.restarts + loud.restarts, `exit codes on SIGTERM: ${quiet.exitCode}, ${loud.exitCode}`],
      ["unrecorded runs", unrecorded, `${records.length} records; runs still 'running' after stop + clean fires with no record`],
      ["mis-charged failures", wrong.length, wrong.slice(0, 3).map((w) => `${w.job} ${w.code}: ${w.message}`).join(" | ")],
      ["clean lateness p50 / p99, alone (ms)", `${fmt(quietLate.p50, 1)} / ${fmt(quietLate.p99, 1)}`, `${quietLate.n} runs, max ${fmt(quietLate.max, 1)}`],
      ["clean lateness p50 / p99, with faults (ms)", `${fmt(loudLate.p50, 1)} / ${fmt(loudLate.p99, 1)}`, `${loudLate.n} runs, max ${fmt(loudLate.max, 1)}`],
    ];
    printTable("Handler faults beside a clean every-second job (real CLI, SQLite store)", ["measure", "value", "note"], rows);
    return rows.map(([measure, value, note]) => ({ measure, value, note }));
  } finally {
    clean.remove();
    faulty.remove();
  }
}

if (process.argv[1] === new URL(import.meta.url).pathname) {
  const argv = process.argv.slice(2);
  const i = argv.indexOf("--seconds");
  const o = argv.indexOf("--only");
  await run({ smoke: argv.includes("--smoke"), seconds: i >= 0 ? Number(argv[i + 1]) : undefined, only: o >= 0 ? argv[o + 1].split(",") : undefined });
}
