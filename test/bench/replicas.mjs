// Several replicas on one PostgreSQL database, partitioned (the default: each job fired by
// its owner) beside race (?partition=off: every replica fires every job and the claim picks
// one), with 1, 2, 4 and 8 replica PROCESSES on this machine and 1,000 jobs firing
// each second; SQLite in one process in the same run as the baseline. Per fire: claim rows
// attempted and claim statements sent, fire-to-start p50/p99, and the database's CPU time
// (utime + stime of the bench's own backends, from /proc/<pid>/stat, sampled every 200 ms:
// the server is shared, so only sessions with the bench's application_name count). Then
// a rebalance: 4 replicas, a 5th joins and one leaves mid-window, fires missed or run twice.
//   npm run build && node test/bench/replicas.mjs [--smoke] [--claim-ahead=300ms] [--replicas=1,2,4,8] [--overlap=skip]
// (--claim-ahead: the store's ?claimAhead=, default its own; --replicas: the counts measured;
// --overlap: the jobs' policy, default allow; skip, the manifest's default, is decided in the claim.)
import { fork } from "node:child_process";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import pg from "pg";
import { dist, fmt, machine, printTable, summary, tempProject } from "./lib.mjs";

const PG = process.env.RUNLET_BENCH_PG ?? "postgres://postgres@127.0.0.1:5432/test";
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const self = fileURLToPath(import.meta.url);

function project(jobs, overlap) {
  const p = tempProject({ "h.mjs": "export default () => 1;\n" });
  const lines = Array.from({ length: jobs }, (_, i) => `  j${i}: { handler: h.mjs, schedule: { every: 1s }, overlap: ${overlap} }`);
  p.write("jobs.yaml", `version: 1\njobs:\n${lines.join("\n")}\n`);
  return p;
}

/** Child side: one runner; counts claim rows and statements for fires in the window it is told. */
async function child() {
  const { kind, manifest, url, partition, app, dbFile } = JSON.parse(process.env.RUNLET_BENCH_REPLICA);
  const { createRunner } = await import(dist("runner/runner.js"));
  const { silentLogger } = await import(dist("runner/log/logger.js"));
  const counters = { rows: 0, statements: 0 };
  let window = null;
  let store;
  if (kind === "sqlite") {
    const { openSqliteStore } = await import(dist("runner/store/index.js"));
    store = await openSqliteStore(dbFile, { logger: silentLogger() });
  } else {
    const { openPostgresStore } = await import(dist("runner/store/postgres/index.js"));
    store = await openPostgresStore(url, { logger: silentLogger(), partition, applicationName: app });
    const claim = store.claimFire.bind(store);
    store.claimFire = (c) => {
      const at = c.scheduledAt.getTime();
      if (window && at >= window.from && at < window.to) counters.rows++;
      return claim(c);
    };
    const query = store.pool.query.bind(store.pool);
    store.pool.query = (text, ...rest) => {
      const now = Date.now();
      if (window && now >= window.from && now < window.to && typeof text === "string" && text.includes("WITH req0")) counters.statements++;
      return query(text, ...rest);
    };
  }
  const runner = createRunner({ manifest, store, logger: silentLogger(), shutdownGraceMs: 5000 });
  await runner.start();
  process.on("message", async (m) => {
    if (m.window) window = m.window;
    if (m.stop) {
      const snapshot = { ...counters };
      await runner.stop();
      process.send({ counters: snapshot }, () => process.exit(0));
    }
  });
  process.send({ started: true });
}

function spawnReplica(spec) {
  const proc = fork(self, ["--replica"], { env: { ...process.env, RUNLET_BENCH_REPLICA: JSON.stringify(spec) }, stdio: ["ignore", "inherit", "inherit", "ipc"] });
  const started = new Promise((resolve, reject) => {
    proc.once("message", resolve);
    proc.once("exit", (code) => reject(new Error(`replica exited with ${code} before starting`)));
  });
  // Gone without answering (its answer may still be in flight when "exit" comes: wait a little).
  const exited = new Promise((resolve) => proc.once("exit", () => setTimeout(() => resolve({ rows: 0, statements: 0, lost: true }), 2000)));
  let stopped = null;
  return {
    started,
    tell: (m) => proc.connected && proc.send(m),
    // Once: the counters it had when told to stop (zeros if it was gone already).
    stop: () =>
      (stopped ??= Promise.race([
        new Promise((resolve) => {
          proc.on("message", (m) => m.counters && resolve(m.counters));
          if (proc.connected) proc.send({ stop: true });
        }),
        exited,
      ])),
  };
}

/** CPU seconds of the server processes serving `app`, sampled until `stop()`; backends that end keep their last sample. */
function backendCpu(admin, app) {
  const ticks = new Map();
  let on = true;
  const sample = async () => {
    const { rows } = await admin.query("SELECT pid FROM pg_stat_activity WHERE application_name = $1", [app]);
    for (const { pid } of rows) {
      try {
        const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1].split(" ");
        const t = Number(fields[11]) + Number(fields[12]); // utime + stime, after pid and (comm)
        const seen = ticks.get(pid);
        ticks.set(pid, { first: seen?.first ?? t, last: t });
      } catch {
        // ended between the query and the read
      }
    }
  };
  const loop = (async () => {
    while (on) {
      await sample().catch(() => undefined);
      await sleep(200);
    }
  })();
  return {
    /** Resets the baseline to now. */
    mark: async () => {
      await sample();
      for (const v of ticks.values()) v.first = v.last;
    },
    stop: async () => {
      await sample().catch(() => undefined);
      on = false;
      await loop;
      return [...ticks.values()].reduce((s, v) => s + v.last - v.first, 0) / 100; // CLK_TCK 100
    },
  };
}

/** `replicas` processes in `mode` for `seconds` after a warm-up; `changes` (rebalance) add and stop replicas mid-window. */
async function measure({ mode, replicas, jobs, seconds, warmMs, timing, overlap, rebalance = false }) {
  const p = project(jobs, overlap);
  const schema = `runlet_bench_${process.pid}_${mode}_${replicas}${rebalance ? "_rb" : ""}`;
  const app = `runlet-bench-${process.pid}-${schema}`;
  const url = `${PG}?schema=${schema}&${timing}`;
  const admin = new pg.Pool({ connectionString: PG, max: 2 });
  const spec = { kind: mode === "sqlite" ? "sqlite" : "postgres", manifest: p.path("jobs.yaml"), url, partition: mode !== "race", app, dbFile: p.path("runs.db") };
  const live = [];
  const counters = [];
  const cpu = mode === "sqlite" ? null : backendCpu(admin, app);
  try {
    for (let i = 0; i < replicas; i++) live.push(spawnReplica(spec));
    await Promise.all(live.map((r) => r.started));
    await sleep(warmMs); // warm-up: pools filled, JIT warm, every replica has read the others (reap 1 s)
    // The window is told well before it opens: a busy replica may take a while to read it.
    const from = Math.ceil((Date.now() + 1500) / 1000) * 1000;
    const to = from + seconds * 1000;
    for (const r of live) r.tell({ window: { from, to } });
    await sleep(from - Date.now());
    await cpu?.mark();
    if (rebalance) {
      await sleep((seconds * 1000) / 3);
      const joiner = spawnReplica(spec);
      await joiner.started;
      joiner.tell({ window: { from, to } });
      live.push(joiner);
      await sleep((seconds * 1000) / 3);
      counters.push(await live.shift().stop());
    }
    await sleep(to - Date.now() + 1000);
    const dbCpuS = (await cpu?.stop()) ?? null;
    counters.push(...(await Promise.all(live.map((r) => r.stop()))));

    let rows;
    if (mode !== "sqlite") {
      const result = await admin.query(`SELECT job, status, reason, scheduled_at, started_at FROM "${schema}".runs WHERE scheduled_at >= $1 AND scheduled_at < $2`, [new Date(from), new Date(to)]);
      rows = result.rows.map((r) => ({ job: r.job, status: r.status, reason: r.reason, scheduledAt: r.scheduled_at.getTime(), startedAt: r.started_at?.getTime() ?? null }));
    } else {
      const { openSqliteStore } = await import(dist("runner/store/index.js"));
      const { silentLogger } = await import(dist("runner/log/logger.js"));
      const store = await openSqliteStore(p.path("runs.db"), { logger: silentLogger() });
      rows = (await store.history({ limit: 1e7 }))
        .filter((r) => Date.parse(r.scheduledAt) >= from && Date.parse(r.scheduledAt) < to)
        .map((r) => ({ job: r.job, status: r.status, reason: r.reason, scheduledAt: Date.parse(r.scheduledAt), startedAt: r.startedAt ? Date.parse(r.startedAt) : null }));
      await store.close();
    }
    const fires = jobs * seconds;
    const ok = rows.filter((r) => r.status === "ok");
    const perFire = new Map();
    for (const r of ok) perFire.set(`${r.job} ${r.scheduledAt}`, (perFire.get(`${r.job} ${r.scheduledAt}`) ?? 0) + 1);
    const start = summary(ok.map((r) => r.startedAt - r.scheduledAt));
    if (counters.some((c) => c.lost)) console.warn(`${mode} ${replicas}: a replica exited without reporting its claims; claim counts are low`);
    const claimRows = counters.reduce((s, c) => s + c.rows, 0);
    const statements = counters.reduce((s, c) => s + c.statements, 0);
    return {
      mode: rebalance ? `${mode}, ${replicas}→${replicas + 1}→${replicas}` : mode,
      replicas,
      fires,
      ran: perFire.size,
      late: rows.filter((r) => r.reason === "late").length,
      missed: fires - new Set(rows.map((r) => `${r.job} ${r.scheduledAt}`)).size,
      twice: [...perFire.values()].filter((n) => n > 1).length,
      rowsPerFire: mode === "sqlite" ? null : claimRows / fires,
      statementsPerFire: mode === "sqlite" ? null : statements / fires,
      startP50: start.p50,
      startP99: start.p99,
      dbCpuMsPer1000: dbCpuS === null ? null : (dbCpuS * 1000 * 1000) / fires,
    };
  } finally {
    await Promise.all(live.map((r) => r.stop().catch(() => undefined)));
    await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`).catch(() => undefined);
    await admin.end();
    p.remove();
  }
}

export async function run({ smoke = false, claimAhead = null, counts: only = null, overlap = "allow" } = {}) {
  // Smoke: small and short (CI runs it), timings not judged; the rebalance still joins and leaves.
  const jobs = smoke ? 200 : 1000;
  const seconds = smoke ? 2 : 6;
  const warmMs = smoke ? 1500 : 3000;
  // A stop hands over for 2 × reap: the smoke's shorter reap keeps each measurement's tail short.
  const timing = `${smoke ? "lease=2s&reap=500ms" : "lease=5s&reap=1s"}${claimAhead === null ? "" : `&claimAhead=${claimAhead}`}`;
  const counts = only ?? (smoke ? [1, 2] : [1, 2, 4, 8]);
  const rows = [await measure({ mode: "sqlite", replicas: 1, jobs, seconds, warmMs, timing, overlap })];
  for (const replicas of counts) {
    for (const mode of ["partitioned", "race"]) rows.push(await measure({ mode, replicas, jobs, seconds, warmMs, timing, overlap }));
  }
  if (only === null) rows.push(await measure({ mode: "partitioned", replicas: smoke ? 2 : 4, jobs, seconds: smoke ? 3 : 9, warmMs, timing, overlap, rebalance: true }));
  const base = rows[0];
  const opt = (v, d) => (v === null || v === undefined || Number.isNaN(v) ? "" : fmt(v, d));
  printTable(
    `Replicas: ${jobs} jobs (overlap: ${overlap}) each second for ${seconds} s (${timing}), replicas as processes on one machine with the database (${machine()}; load before: ${readFileSync("/proc/loadavg", "utf8").split(" ").slice(0, 3).join(" ")})`,
    ["mode", "replicas", "fires", "ran once", "late", "missed", "ran twice", "claim rows/fire", "claim stmts/fire", "start p50 ms", "start p99 ms", "p50 vs sqlite", "db CPU ms/1000 fires"],
    rows.map((r) => [
      r.mode, r.replicas, r.fires, r.ran, r.late, r.missed, r.twice, opt(r.rowsPerFire, 2), opt(r.statementsPerFire, 4),
      fmt(r.startP50, 1), fmt(r.startP99, 1), `${fmt(r.startP50 / base.startP50, 1)}x`, opt(r.dbCpuMsPer1000, 0),
    ]),
  );
  return rows;
}

if (process.argv.includes("--replica")) {
  await child();
} else if (process.argv[1]?.endsWith("replicas.mjs")) {
  const flag = (name) => process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3) ?? null;
  await run({ smoke: process.argv.includes("--smoke"), claimAhead: flag("claim-ahead"), counts: flag("replicas")?.split(",").map(Number) ?? null, overlap: flag("overlap") ?? "allow" });
  process.exit(0);
}
