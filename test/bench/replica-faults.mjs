// The run-once promise under a fault timeline: three replicas (real `runlet start`
// processes) on a PostgreSQL server of the benchmark's own, side by side with the same
// timeline on one replica (its own server), one after the other. The timeline, as fractions of
// the run: a SIGSTOP past the lease (15%), a database outage (35%), a kill -9 and a
// replacement (60%), a rolling restart (80%). Jobs: tick (each second, 100 ms), slow
// (each second, 1.5 s, overlap skip), flaky (each 2 s, attempt 1 fails, 2 retries).
// Handlers append one line per execution; the database holds the records. Printed per
// side: fires (records), executions, duplicates (an attempt executed twice, or a run
// executed ok more than once: must be 0), lost, late (skipped as late or started > 1 s
// after its time), unclaimed seconds (no record: nobody could claim, e.g. during the outage).
//   npm run build && node test/bench/replica-faults.mjs [--seconds 180] [--smoke]   (smoke: 20 s a side)
import { execFileSync, spawn, spawnSync } from "node:child_process";
import { chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { dist, fmt, machine, printTable, tempProject } from "./lib.mjs";

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const LEASE_MS = 3000;

const WORKER = `import { appendFileSync } from "node:fs";
export default async (ctx) => {
  const start = Date.now();
  await new Promise((resolve, reject) => {
    const onAbort = () => { clearTimeout(done); appendFileSync(ctx.params.log, \`\${ctx.runId} \${ctx.attempt} \${start} \${Date.now()} aborted\\n\`); reject(ctx.signal.reason); };
    const done = setTimeout(() => { ctx.signal.removeEventListener("abort", onAbort); resolve(); }, ctx.params.ms);
    ctx.signal.addEventListener("abort", onAbort, { once: true });
  });
  const failed = ctx.params.failFirst && ctx.attempt === 1;
  appendFileSync(ctx.params.log, \`\${ctx.runId} \${ctx.attempt} \${start} \${Date.now()} \${failed ? "failed" : "ok"}\\n\`);
  if (failed) throw new Error("attempt 1 fails on purpose");
};
`;

/** A PostgreSQL server of its own (initdb in a temp folder, a free port; as the postgres user when root). */
async function privatePostgres() {
  const root = "/usr/lib/postgresql";
  const bin = process.env.RUNLET_PG_BIN ?? join(root, readdirSync(root).filter((v) => existsSync(join(root, v, "bin", "initdb"))).sort((a, b) => b - a)[0], "bin");
  const dir = mkdtempSync(join(tmpdir(), "runlet-bench-pg-"));
  const asRoot = process.getuid?.() === 0;
  if (asRoot) chownSync(dir, Number(execFileSync("id", ["-u", "postgres"]).toString()), Number(execFileSync("id", ["-g", "postgres"]).toString()));
  const run = (tool, args) => {
    const [cmd, argv] = asRoot ? ["runuser", ["-u", "postgres", "--", join(bin, tool), ...args]] : [join(bin, tool), args];
    const r = spawnSync(cmd, argv, { encoding: "utf8" });
    if (r.status !== 0) throw new Error(`${tool} failed: ${r.stderr}`);
  };
  run("initdb", ["-D", join(dir, "data"), "-A", "trust", "-U", "postgres", "--no-sync", "--no-instructions"]);
  const port = await new Promise((resolve) => {
    const s = createServer().listen(0, "127.0.0.1", () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
  const opts = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=100`;
  const start = () => run("pg_ctl", ["-D", join(dir, "data"), "-o", opts, "-l", join(dir, "log"), "-w", "start"]);
  const cut = () => run("pg_ctl", ["-D", join(dir, "data"), "-m", "immediate", "-w", "stop"]);
  start();
  return { url: `postgres://postgres@127.0.0.1:${port}/postgres`, start, cut, stop: () => (cut(), rmSync(dir, { recursive: true, force: true })) };
}

function startReplica(dir, url) {
  const child = spawn(process.execPath, [dist("runner/cli/main.js"), "start", "--store", url, "--grace", "1s"], { cwd: dir, stdio: ["ignore", "ignore", "pipe"], env: { ...process.env, LOG_LEVEL: "warn" } });
  if (process.env.RUNLET_BENCH_DEBUG) child.stderr.pipe(process.stderr); else child.stderr.resume();
  child.exitedP = new Promise((resolve) => child.on("exit", resolve));
  return child;
}

async function stopReplica(child) {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill("SIGCONT");
  child.kill("SIGTERM");
  await child.exitedP;
}

/** One side of the comparison: `replicas` processes through the whole timeline. */
async function timeline({ replicas: count, seconds, outageMs }) {
  const server = await privatePostgres();
  const p = tempProject({ "jobs/worker.mjs": WORKER });
  const log = JSON.stringify(p.path("exec.log"));
  p.write(
    "jobs.yaml",
    `version: 1\njobs:
  tick: { handler: jobs/worker.mjs, schedule: { every: 1s }, params: { log: ${log}, ms: 100 } }
  slow: { handler: jobs/worker.mjs, schedule: { every: 1s }, overlap: skip, params: { log: ${log}, ms: 1500 } }
  flaky: { handler: jobs/worker.mjs, schedule: { every: 2s }, retries: { max: 2, delay: 300ms }, params: { log: ${log}, ms: 200, failFirst: true } }
`,
  );
  const url = `${server.url}?schema=bench&lease=${LEASE_MS}ms&reap=500ms`;
  const live = Array.from({ length: count }, () => startReplica(p.dir, url));
  const at = (fraction) => sleep(Math.max(0, began + fraction * seconds * 1000 - Date.now()));
  const began = Date.now() + 3000; // start-up
  try {
    await at(0.15);
    live[0].kill("SIGSTOP");
    await sleep(LEASE_MS + 2000);
    live[0].kill("SIGCONT");
    await at(0.35);
    server.cut();
    await sleep(outageMs);
    server.start();
    await at(0.6);
    const victim = live.shift();
    victim.kill("SIGKILL");
    await victim.exitedP;
    live.push(startReplica(p.dir, url));
    await at(0.8);
    for (let i = 0; i < count; i++) {
      const next = startReplica(p.dir, url);
      await sleep(1500);
      await stopReplica(live.shift());
      live.push(next);
    }
    await at(1);
    await Promise.all(live.map(stopReplica));
    // Let a reaper judge what the last stop left: one more replica for a lease.
    const closer = startReplica(p.dir, url);
    await sleep(LEASE_MS + 2000);
    await stopReplica(closer);
    return await measure(server.url, p.path("exec.log"), began);
  } finally {
    await Promise.all(live.map(stopReplica));
    server.stop();
    p.remove();
  }
}

async function measure(serverUrl, file, began) {
  const db = new pg.Client({ connectionString: serverUrl });
  await db.connect();
  try {
    const { rows } = await db.query(`SELECT run_id, job, status, reason, attempt, scheduled_at, started_at FROM bench.runs WHERE scheduled_at >= $1`, [new Date(began)]);
    const execs = existsSync(file) ? readFileSync(file, "utf8").trim().split("\n").filter(Boolean).map((l) => l.split(" ")) : [];
    const inWindow = new Set(rows.map((r) => r.run_id));
    const mine = execs.filter((e) => inWindow.has(e[0]));
    const perAttempt = new Map();
    const okPerRun = new Map();
    for (const [runId, attempt, , , outcome] of mine) {
      perAttempt.set(`${runId}#${attempt}`, (perAttempt.get(`${runId}#${attempt}`) ?? 0) + 1);
      if (outcome === "ok") okPerRun.set(runId, (okPerRun.get(runId) ?? 0) + 1);
    }
    const duplicates = [...perAttempt.values()].filter((n) => n > 1).length + [...okPerRun.values()].filter((n) => n > 1).length;
    const late = rows.filter((r) => r.reason === "late" || (r.started_at && r.started_at - r.scheduled_at > 1000)).length;
    const ticks = new Set(rows.filter((r) => r.job === "tick").map((r) => r.scheduled_at.getTime() / 1000));
    const first = Math.min(...ticks);
    const last = Math.max(...ticks);
    return {
      fires: rows.length,
      executions: mine.length,
      duplicates,
      lost: rows.filter((r) => r.status === "lost").length,
      late,
      unclaimed: last - first + 1 - ticks.size,
      okRecorded: rows.filter((r) => r.status === "ok").length,
      byJob: Object.fromEntries(["tick", "slow", "flaky"].map((job) => [job, rows.filter((r) => r.job === job).length])),
    };
  } finally {
    await db.end();
  }
}

export async function run({ smoke = false, seconds } = {}) {
  const total = seconds ?? (smoke ? 20 : 180);
  const outageMs = Math.min(20_000, total * 150);
  console.log(`fault timeline: ${total} s, lease ${LEASE_MS} ms, outage ${outageMs / 1000} s — ${machine()} (shared, loaded machine: compare the sides, not absolute figures)`);
  // One after the other, each on a server of its own: the two sides never share the machine's cores.
  const three = await timeline({ replicas: 3, seconds: total, outageMs });
  const one = await timeline({ replicas: 1, seconds: total, outageMs });
  const keys = ["fires", "executions", "duplicates", "lost", "late", "unclaimed", "okRecorded"];
  printTable(`Fault timeline (${total} s): SIGSTOP past the lease, ${outageMs / 1000} s outage, kill -9, rolling restart`, ["", "3 replicas", "1 replica"], keys.map((k) => [k, fmt(three[k], 0), fmt(one[k], 0)]));
  if (three.duplicates > 0 || one.duplicates > 0) throw new Error(`duplicates: ${three.duplicates} (3 replicas), ${one.duplicates} (1 replica); must be 0`);
  return keys.map((k) => ({ metric: k, threeReplicas: three[k], oneReplica: one[k] }));
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const argv = process.argv.slice(2);
  const i = argv.indexOf("--seconds");
  await run({ smoke: argv.includes("--smoke"), seconds: i >= 0 ? Number(argv[i + 1]) : undefined });
}
