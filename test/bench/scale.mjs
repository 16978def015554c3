// Scale: start-up of 1,000 to 100,000 jobs, fire lateness of 1,000 and 10,000 jobs, and
// thread-mode throughput; runlet next to bare node-schedule (and raw piscina) in the same run.
// Start-up and lateness are measured in child processes (scale-child.mjs), one after another,
// so each has a clean heap and RSS and the two runners never share the CPU.
//   npm run build && node test/bench/scale.mjs [--smoke] [--seconds N] [--bare-cap S] [--breakdown] [--parts startup,lateness,throughput]
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { Piscina } from "piscina";
import { dist, fmt, printTable, tempProject } from "./lib.mjs";
import { lateHandler, lateManifest, startManifest } from "./scale-child.mjs";

const childScript = fileURLToPath(new URL("./scale-child.mjs", import.meta.url));

/** Runs one role of scale-child.mjs; null when it ran past `timeoutMs` (killed). */
function child(role, options, timeoutMs = 600_000) {
  return new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, ["--expose-gc", childScript, role, JSON.stringify(options)], { stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    proc.stdout.on("data", (d) => (stdout += d));
    proc.stderr.on("data", (d) => (stderr += d));
    const timer = setTimeout(() => proc.kill("SIGKILL"), timeoutMs);
    proc.on("error", reject);
    proc.on("close", (code, signal) => {
      clearTimeout(timer);
      if (signal === "SIGKILL") return resolve(null);
      if (code !== 0) return reject(new Error(`${role} ${JSON.stringify(options)} exited with ${code}:\n${stderr}`));
      resolve(JSON.parse(stdout.trim().split("\n").pop()));
    });
  });
}

function handlerFiles() {
  const files = {};
  for (let h = 0; h < 100; h++) files[`jobs/h${h}.ts`] = `export default (ctx) => ({ handler: ${h}, n: ctx.params.n });\n`;
  return files;
}

/** Start-up: runlet (validate + compile + schedule, until start() resolves) vs bare node-schedule. */
async function startUp({ smoke, bareCapS, breakdown }) {
  const sizes = smoke ? [1_000] : [1_000, 10_000, 100_000];
  const rows = [];
  for (const distinct of [1_000, "all"]) {
    // 1,000 jobs over 1,000 schedules is already every job its own schedule.
    for (const jobs of distinct === "all" ? sizes.filter((n) => n > 1_000) : sizes) {
      const project = tempProject({ "jobs.yaml": startManifest(jobs, distinct), ...handlerFiles() });
      try {
        // Bare node-schedule takes minutes at 100,000: its reference figures unless `--bare-cap S`.
        const measureBare = jobs <= 10_000 || bareCapS > 0;
        const bareRun = () => (measureBare ? child("bare-start", { n: jobs, distinct }, jobs <= 10_000 ? 600_000 : bareCapS * 1000) : null);
        const runletRun = () => child("runlet-start", { dir: project.dir, breakdown });
        // A smoke run checks that everything runs, not how fast: the two may share the CPU.
        const [runlet, measured] = smoke ? await Promise.all([runletRun(), bareRun()]) : [await runletRun(), await bareRun()];
        if (runlet.jobs !== jobs) throw new Error(`runlet started ${runlet.jobs} jobs, expected ${jobs}`);
        const b = measured ?? reference(distinct, measureBare ? bareCapS * 1000 : 0);
        rows.push({
          part: "start-up", jobs, distinct: distinct === "all" ? jobs : Math.min(distinct, jobs),
          startMs: runlet.startMs, validateMs: runlet.validateMs, compileMs: runlet.compileMs, scheduleMs: runlet.scheduleMs,
          rssMb: runlet.rssMb, settledRssMb: runlet.settledRssMb, heapMb: runlet.settledHeapMb,
          bareMs: b.startMs, bareRssMb: b.rssMb, bareSettledRssMb: b.settledRssMb ?? b.rssMb, bareNote: b.note ?? "measured",
          bytesPerJobOverBare: ((runlet.rssMb - b.rssMb) * 2 ** 20) / jobs,
          settledBytesPerJobOverBare: ((runlet.settledRssMb - (b.settledRssMb ?? b.rssMb)) * 2 ** 20) / jobs,
          speedup: b.startMs / runlet.startMs,
        });
      } finally {
        project.remove();
      }
    }
  }
  printTable(
    `Start-up: createRunner → start() resolved (validate, compile 100 handlers, schedule) vs bare node-schedule.scheduleJob of the same crons; RSS after one GC, and after three more ("settled": what V8 hands back by itself within ~10 s idle)`,
    ["jobs", "distinct", "runlet ms", ...(breakdown ? ["validate", "compile", "schedule"] : []), "RSS MB", "settled", "bare ms", "bare RSS", "settled", "bare figures", "B/job over bare", "settled", "bare ÷ runlet"],
    rows.map((r) => [
      r.jobs, r.distinct, fmt(r.startMs, 0), ...(breakdown ? [fmt(r.validateMs, 0), fmt(r.compileMs, 0), fmt(r.scheduleMs, 0)] : []),
      fmt(r.rssMb, 0), fmt(r.settledRssMb, 0), fmt(r.bareMs, 0), fmt(r.bareRssMb, 0), fmt(r.bareSettledRssMb, 0), r.bareNote,
      fmt(r.bytesPerJobOverBare, 0), fmt(r.settledBytesPerJobOverBare, 0), `${fmt(r.speedup, 1)}×`,
    ]),
  );
  return rows;
}

/**
 * Bare node-schedule at 100,000 jobs takes 8-13 minutes here, too long for the suite: these
 * are its figures from scale-child.mjs on this machine (2 × Intel Xeon, Node 20.20.2,
 * 2026-11-29, with `--bare-cap 900`; on 2 × AMD EPYC, 2026-11-28: 336 s and 265 s). A sum
 * a·n + b·n² fitted to 1,000 and 10,000 gives only ~50 s: its quadratic insert does not
 * show below 10,000. `--bare-cap S` measures it again.
 */
const BARE_100K_REFERENCE = {
  1000: { startMs: 746_266, rssMb: 550, settledRssMb: 522 },
  all: { startMs: 480_971, rssMb: 831, settledRssMb: 665 },
};

function reference(distinct, capMs) {
  return { ...BARE_100K_REFERENCE[distinct], note: `${capMs ? `> ${capMs / 1000} s (cap); ` : ""}reference run, 2026-11-29` };
}

/** Fire lateness: handler start − scheduled time, runlet then bare node-schedule, one child each. */
async function lateness({ smoke, seconds }) {
  const sizes = smoke ? [1_000] : [1_000, 10_000];
  const configs = sizes.flatMap((jobs) => ["shared", "offsets"].flatMap((variant) => ["runlet", "bare node-schedule"].map((runner) => ({ jobs, variant, runner }))));
  // runlet as `runlet start` runs it, at the default info level (a line at each run's start
  // and end), written to /dev/null: the rows above run silent.
  configs.push({ jobs: sizes.at(-1), variant: "shared", runner: "runlet, info log" });
  const measure = async ({ jobs, variant, runner }) => {
    const project = tempProject({ "jobs.yaml": lateManifest(jobs, variant), "late.mjs": lateHandler });
    try {
      const r = await child(runner === "bare node-schedule" ? "bare-late" : "runlet-late", { dir: project.dir, n: jobs, variant, seconds, infoLog: runner === "runlet, info log" });
      return { part: "lateness", jobs, variant, runner, seconds, ...r, missed: r.expected - r.ran };
    } finally {
      project.remove();
    }
  };
  const rows = [];
  // Smoke: all at once (it checks that they run, not their figures); else one after another.
  if (smoke) rows.push(...(await Promise.all(configs.map(measure))));
  else for (const config of configs) rows.push(await measure(config));
  printTable(
    'Fire lateness, handler start − scheduled time (inline trivial handler): "shared" = every job on "* * * * * *"; "offsets" = job i on "<i mod 60> * * * * *" (60 schedules, N/60 jobs due each second)',
    ["jobs", "schedules", "runner", "window s", "expected", "ran", "missed", "p50 ms", "p99 ms", "max ms"],
    rows.map((r) => [r.jobs, r.variant, r.runner, r.seconds, r.expected, r.ran, r.missed, fmt(r.p50, 1), fmt(r.p99, 1), fmt(r.max, 1)]),
  );
  return rows;
}

/** Thread mode: runs of a trivial handler through runlet's pool (Runner.invoke) vs raw piscina, all queued at once. */
async function throughput({ smoke }) {
  const runs = smoke ? 2_000 : 10_000;
  const { createRunner } = await import(dist("runner/index.js"));
  const { MemoryStore } = await import(dist("runner/store/index.js"));
  const { silentLogger } = await import(dist("runner/log/logger.js"));
  const { ThreadExecutor } = await import(dist("runner/execute/thread-executor.js"));
  const { RunAbort } = await import(dist("runner/execute/run-abort.js"));
  const project = tempProject({
    "jobs.yaml": "version: 1\njobs:\n  trivial: { handler: trivial.mjs, mode: thread, history: { keep: 1 } }\n",
    "trivial.mjs": "export default (ctx) => ({ ok: true, attempt: ctx.attempt });\n",
    "raw-worker.mjs": `import { pathToFileURL } from "node:url";
const cache = new Map();
export default async (task) => {
  let mod = cache.get(task.modulePath);
  if (!mod) cache.set(task.modulePath, (mod = await import(pathToFileURL(task.modulePath).href)));
  return mod.default({ attempt: task.n, params: {} });
};
`,
  });
  const threads = 2;
  const modulePath = project.path("trivial.mjs");
  const pool = new Piscina({ filename: project.path("raw-worker.mjs"), atomics: "async", maxThreads: threads, idleTimeout: 60_000 });
  pool.on("error", (err) => console.error("raw piscina pool error", err));
  // The executor alone (what the pool adds), then the whole path a fire takes (dispatcher, records, store).
  const executor = new ThreadExecutor({ logger: silentLogger(), maxThreads: threads, idleTimeoutMs: 60_000 });
  const log = silentLogger();
  // An abort per run, as the dispatcher gives each attempt: a RunAbort, whose AbortSignal is
  // made only if something reads it (an AbortController per run would add its own ~5 µs).
  const request = (n) => {
    const aborts = new RunAbort();
    return { job: "trivial", runId: `r${n}`, modulePath, fireDate: new Date(), attempt: 1, params: {}, env: "bench", aborts, get signal() { return aborts.signal; }, log, memoryMb: null };
  };
  const runner = createRunner({ manifest: project.path("jobs.yaml"), env: "bench", store: new MemoryStore({ logger: silentLogger() }) });
  const ways = {
    raw: (n) => Promise.all(Array.from({ length: n }, (_, i) => pool.run({ n: i, modulePath }))),
    executor: (n) => Promise.all(Array.from({ length: n }, (_, i) => executor.run(request(i)))),
    runner: async (n) => {
      const records = await Promise.all(Array.from({ length: n }, () => runner.invoke("trivial")));
      const failed = records.find((r) => r.status !== "ok");
      if (failed) throw new Error(`thread run failed: ${JSON.stringify(failed.error)}`);
    },
  };
  try {
    await runner.load();
    for (const fn of Object.values(ways)) await fn(200); // warm: workers started, modules imported
    // Rounds interleaved, best of each: a drift in the machine's load hits every row alike.
    const best = { raw: 0, executor: 0, runner: 0 };
    const rounds = smoke ? 1 : 5;
    for (let round = 0; round < rounds; round++) {
      for (const [way, fn] of Object.entries(ways)) {
        const t0 = performance.now();
        await fn(runs);
        best[way] = Math.max(best[way], runs / ((performance.now() - t0) / 1000));
      }
    }
    const { raw, executor: bare, runner: runlet } = best;
    const rows = [
      { part: "throughput", runner: "raw piscina (import + call)", runs, threads, runsPerS: raw },
      { part: "throughput", runner: "runlet ThreadExecutor.run", runs, threads, runsPerS: bare, rawOverRunlet: raw / bare },
      { part: "throughput", runner: "runlet Runner.invoke (thread mode)", runs, threads, runsPerS: runlet, rawOverRunlet: raw / runlet },
    ];
    printTable(`Thread-mode throughput: all runs queued at once, 2 worker threads, best of ${rounds} interleaved rounds`, ["runner", "runs", "runs/s", "raw ÷ runlet"], rows.map((r) => [r.runner, r.runs, fmt(r.runsPerS, 0), r.rawOverRunlet ? `${fmt(r.rawOverRunlet, 2)}×` : ""]));
    return rows;
  } finally {
    await Promise.all([pool.destroy(), executor.close(), runner.stop()]);
    project.remove();
  }
}

/**
 * @param {{ smoke?: boolean, seconds?: number, bareCapS?: number, breakdown?: boolean, parts?: string[] }} options
 *   seconds: the lateness window (default 4, smoke 2: eight 30 s windows alone would take the
 *   suite past its 5 minutes; `--seconds 30` gives the issue's figure); bareCapS: try bare
 *   node-schedule at 100,000 jobs for at most this long instead of extrapolating; breakdown:
 *   also time validate, compile and schedule apart (after the real start, in the same child).
 */
export async function run({ smoke = false, seconds, bareCapS = 0, breakdown = false, parts = ["startup", "lateness", "throughput"] } = {}) {
  const rows = [];
  if (parts.includes("startup")) rows.push(...(await startUp({ smoke, bareCapS, breakdown })));
  if (parts.includes("lateness")) rows.push(...(await lateness({ smoke, seconds: seconds ?? (smoke ? 2 : 4) })));
  if (parts.includes("throughput")) rows.push(...(await throughput({ smoke })));
  return rows;
}

if (process.argv[1]?.endsWith("scale.mjs")) {
  const arg = (name) => {
    const i = process.argv.indexOf(name);
    return i > 0 ? process.argv[i + 1] : undefined;
  };
  await run({
    smoke: process.argv.includes("--smoke"),
    seconds: arg("--seconds") && Number(arg("--seconds")),
    bareCapS: Number(arg("--bare-cap") ?? 0),
    breakdown: process.argv.includes("--breakdown"),
    parts: arg("--parts")?.split(","),
  });
  process.exit(0);
}
