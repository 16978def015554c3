// Several replicas on PostgreSQL: claim throughput, claim latency and fire-to-start latency
// with 1, 2 and 4 replicas and 1,000 jobs firing each second, vs the SQLite store in one
// process. Replicas are IN-PROCESS: N Runner instances in one Node process, each with its
// own PostgresStore (own pool, own owner id), all on one schema, the same as N processes
// as far as the database is concerned, but sharing one event loop and the machine's 2 cores
// with PostgreSQL itself, so the figures are a floor, not a cluster's.
//   npm run build && node test/bench/replicas.mjs [--smoke]
import pg from "pg";
import { dist, fmt, machine, printTable, summary, tempProject } from "./lib.mjs";

const { createRunner } = await import(dist("runner/runner.js"));
const { openPostgresStore } = await import(dist("runner/store/postgres/index.js"));
const { openSqliteStore } = await import(dist("runner/store/index.js"));
const { silentLogger } = await import(dist("runner/log/logger.js"));

const PG = process.env.RUNLET_BENCH_PG ?? "postgres://postgres@127.0.0.1:5432/test";
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function project(jobs) {
  const p = tempProject({ "h.mjs": "export default () => 1;\n" });
  const lines = Array.from({ length: jobs }, (_, i) => `  j${i}: { handler: h.mjs, schedule: { every: 1s }, overlap: allow }`);
  p.write("jobs.yaml", `version: 1\njobs:\n${lines.join("\n")}\n`);
  return p;
}

/** Runs `replicas` runners (or one SQLite runner) for `seconds` after a warm-up; reads the history. */
async function measure({ kind, replicas, jobs, seconds }) {
  const p = project(jobs);
  const schema = `runlet_bench_${process.pid}_${kind}_${replicas}`;
  const admin = new pg.Pool({ connectionString: PG, max: 1 });
  const claimMs = [];
  const runners = [];
  try {
    for (let i = 0; i < replicas; i++) {
      const store =
        kind === "postgres"
          ? await openPostgresStore(`${PG}?schema=${schema}`, { logger: silentLogger() })
          : await openSqliteStore(p.path("runs.db"), { logger: silentLogger() });
      if (kind === "postgres") {
        const claim = store.claimFire.bind(store);
        store.claimFire = async (c) => {
          const t0 = performance.now();
          try {
            return await claim(c);
          } finally {
            claimMs.push(performance.now() - t0);
          }
        };
      }
      runners.push(createRunner({ manifest: p.path("jobs.yaml"), store, shutdownGraceMs: 5000 }));
    }
    await Promise.all(runners.map((r) => r.start()));
    await sleep(2000); // warm-up: pools filled, JIT warm
    claimMs.length = 0;
    const from = Math.ceil(Date.now() / 1000) * 1000;
    await sleep(from - Date.now() + seconds * 1000 + 1500);
    const to = from + seconds * 1000;
    await Promise.all(runners.map((r) => r.stop()));

    let rows;
    if (kind === "postgres") {
      const result = await admin.query(
        `SELECT status, reason, scheduled_at, started_at FROM "${schema}".runs WHERE scheduled_at >= $1 AND scheduled_at < $2`,
        [new Date(from), new Date(to)],
      );
      rows = result.rows.map((r) => ({ status: r.status, reason: r.reason, scheduledAt: r.scheduled_at.getTime(), startedAt: r.started_at?.getTime() ?? null }));
    } else {
      const store = await openSqliteStore(p.path("runs.db"), { logger: silentLogger() });
      rows = (await store.history({ limit: 1e7 }))
        .filter((r) => Date.parse(r.scheduledAt) >= from && Date.parse(r.scheduledAt) < to)
        .map((r) => ({ status: r.status, reason: r.reason, scheduledAt: Date.parse(r.scheduledAt), startedAt: r.startedAt ? Date.parse(r.startedAt) : null }));
      await store.close();
    }
    const expected = jobs * seconds;
    const ok = rows.filter((r) => r.status === "ok");
    const perFire = new Map();
    for (const r of rows) perFire.set(`${r.scheduledAt}`, (perFire.get(`${r.scheduledAt}`) ?? 0) + 1);
    const start = summary(ok.map((r) => r.startedAt - r.scheduledAt));
    const claims = summary(claimMs);
    return {
      store: kind,
      replicas,
      jobs,
      expected,
      recorded: rows.length,
      ran: ok.length,
      late: rows.filter((r) => r.reason === "late").length,
      claimedPerS: kind === "postgres" ? rows.length / seconds : null,
      // Claim calls are counted over the whole measured wait (the window plus 1.5 s of tail).
      claimCallsPerS: kind === "postgres" ? claimMs.length / (seconds + 1.5) : null,
      claimP50: claims.p50,
      claimP99: claims.p99,
      startP50: start.p50,
      startP95: start.p95,
      startP99: start.p99,
    };
  } finally {
    await Promise.all(runners.map((r) => r.stop().catch(() => undefined)));
    await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`).catch(() => undefined);
    await admin.end();
    p.remove();
  }
}

export async function run({ smoke = false } = {}) {
  const jobs = smoke ? 200 : 1000;
  const seconds = smoke ? 3 : 4;
  const rows = [await measure({ kind: "sqlite", replicas: 1, jobs, seconds })];
  for (const replicas of [1, 2, 4]) rows.push(await measure({ kind: "postgres", replicas, jobs, seconds }));
  const base = rows[0];
  printTable(
    `Replicas: ${jobs} jobs each second for ${seconds} s (${machine()}); PostgreSQL replicas in-process`,
    ["store", "replicas", "fires", "recorded", "ran", "late", "claims won/s", "claim calls/s", "claim p50 ms", "claim p99 ms", "start p50 ms", "start p99 ms", "p50 vs sqlite"],
    rows.map((r) => [
      r.store, r.replicas, r.expected, r.recorded, r.ran, r.late,
      r.claimedPerS === null ? "" : fmt(r.claimedPerS, 0), r.claimCallsPerS === null ? "" : fmt(r.claimCallsPerS, 0),
      r.claimP50 === undefined || Number.isNaN(r.claimP50) ? "" : fmt(r.claimP50, 2), r.claimP99 === undefined || Number.isNaN(r.claimP99) ? "" : fmt(r.claimP99, 2),
      fmt(r.startP50, 1), fmt(r.startP99, 1), `${fmt(r.startP50 / base.startP50, 2)}x`,
    ]),
  );
  return rows;
}

if (process.argv[1]?.endsWith("replicas.mjs")) {
  await run({ smoke: process.argv.includes("--smoke") });
  process.exit(0);
}
