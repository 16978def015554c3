import { utimesSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { startPrivatePostgres, type PrivatePostgres } from "../support/private-postgres.js";
import { tempProject, type TempProject } from "../support/temp-project.js";
import { executions, NO_VIOLATIONS, runOnceViolations, WORKER } from "./fault-support.js";
import { waitFor } from "../support/poll.js";
import { databaseOn, logEntries, sleep, startReplica, stoppedAtEnd, stopReplica, tended } from "./pg-support.js";
import { loggedLines } from "../support/logged-lines.js";

// Every test here cuts, pauses or kills: a PostgreSQL server of this file's own, never the machine's.
let server: PrivatePostgres;
beforeAll(async () => {
  server = await startPrivatePostgres();
}, 60_000);
afterAll(async () => {
  await server?.stop();
});

/** tick: short, each second; slow: longer than a second, overlap skip; flaky: attempt 1 fails, retried. */
function manifest(project: TempProject, extra = ""): string {
  const log = JSON.stringify(project.path("exec.log"));
  return `version: 1
jobs:
  tick: { handler: jobs/worker.mjs, schedule: { every: 1s }, params: { log: ${log}, ms: 200${extra} } }
  slow: { handler: jobs/worker.mjs, schedule: { every: 1s }, overlap: skip, params: { log: ${log}, ms: 1500${extra} } }
  flaky: { handler: jobs/worker.mjs, schedule: { every: 2s }, retries: { max: 2, delay: 500ms }, params: { log: ${log}, ms: 300, failFirst: true${extra} } }
`;
}

/** The outage test: how long the server is down. */
const OUTAGE_MS = 20_000;
/** The deploy test: how long each new replica runs beside the old one it replaces. */
const ROLL_OVERLAP_MS = 2_000;
/** The deploy test: how long the new replicas run on alone once all are up, the window whose ticks are counted. */
const AFTER_DEPLOY_MS = 6_000;

describe("run once under faults (real replicas, a PostgreSQL server of the test's own)", () => {
  test("a 20 s outage with three replicas: runs that finished during it keep their outcome, nothing runs twice, claims resume at once", async () => {
    await using db = await databaseOn(server);
    await using project = tempProject({ "jobs/worker.mjs": WORKER });
    project.write("jobs.yaml", `${manifest(project)}  long: { handler: jobs/worker.mjs, schedule: { every: 1s }, overlap: skip, params: { log: ${JSON.stringify(project.path("exec.log"))}, ms: 3000 } }\n`);
    const url = db.url({ lease: "5s", reap: "1s" });
    await using replicas = stoppedAtEnd(await Promise.all([0, 1, 2].map(() => startReplica(project.dir, url))));
    await tended(db, replicas);
    // A run is in flight when the server goes (its start recorded), and ends during the outage (3 s, within its lease).
    const since = Date.now();
    const inFlight = await Promise.race(replicas.map((cli) => cli.waitForLog((e) => e.event === "run-started" && e.job === "long" && (e.time as number) >= since, 15_000)));
    await waitFor(async () => (await db.query(`SELECT 1 FROM "${db.name}".runs WHERE run_id = $1 AND status = 'running'`, [inFlight.runId])).length > 0, 5_000, `the start of run ${String(inFlight.runId)} to be recorded`);
    const cutAt = Date.now();
    server.cut();
    await sleep(OUTAGE_MS);
    server.restore();
    const backAt = Date.now();
    // Claims resume: five ticks due from 3 s after the restore, which also outlasts a lease cut in flight (5 s) and the reaper's turn after it (1 s).
    const ticksAfter = (at: number) => db.query<{ at: Date }>(`SELECT scheduled_at AS at FROM "${db.name}".runs WHERE job = 'tick' AND status = 'ok' AND scheduled_at > $1 ORDER BY 1`, [new Date(at)]);
    await waitFor(async () => (await ticksAfter(backAt + 3000)).length >= 5, 30_000, "5 ticks after the restore");
    for (const cli of replicas) expect(cli.child.exitCode).toBeNull();
    expect(await Promise.all(replicas.map(stopReplica))).toEqual([0, 0, 0]);

    const execs = executions(project.path("exec.log"));
    const endedDuringOutage = execs.filter((e) => e.end > cutAt + 50 && e.end < backAt && e.outcome === "ok");
    expect(endedDuringOutage.length).toBeGreaterThan(0);
    const violations = await runOnceViolations(db, project.path("exec.log"));
    expect(violations).toEqual(NO_VIOLATIONS);
    // No fire ran during the outage: nobody could claim one.
    expect(execs.filter((e) => e.start > cutAt + 1000 && e.start < backAt)).toEqual([]);

    // Claims resumed right after it: every second from 3 s after the restore has its tick.
    const seconds = (await ticksAfter(backAt + 3000)).map((t) => t.at.getTime() / 1000);
    expect(seconds.length).toBeGreaterThanOrEqual(5);
    expect(seconds[0]! * 1000).toBeLessThanOrEqual(backAt + 5000);
    expect(seconds.at(-1)! - seconds[0]! + 1).toBe(seconds.length);
    const logs = replicas.flatMap(logEntries);
    expect(logs.filter((e) => String(e.msg).includes("differs from the group's newest manifest"))).toEqual([]);
    expect(logs.filter((e) => String(e.msg).includes("unhandled rejection"))).toEqual([]);
    // overlap: skip was not held up by completions stuck in a queue: slow ran again soon after.
    const slowAfter = await db.query<{ started_at: Date }>(`SELECT started_at FROM "${db.name}".runs WHERE job = 'slow' AND status = 'ok' AND started_at > $1 ORDER BY 1 LIMIT 1`, [new Date(backAt)]);
    expect(slowAfter[0]!.started_at.getTime()).toBeLessThan(backAt + 5000);
  }, 120_000);

  test("a replica paused (SIGSTOP) past its lease stops its runs the moment it wakes, inline and thread; the run completes once, elsewhere", async () => {
    await using db = await databaseOn(server);
    await using project = tempProject({ "jobs/worker.mjs": WORKER });
    const log = JSON.stringify(project.path("exec.log"));
    const ticks = JSON.stringify(project.path("ticks.log"));
    project.write(
      "jobs.yaml",
      `version: 1
jobs:
  inline: { handler: jobs/worker.mjs, schedule: { every: 2s }, overlap: skip, retries: 1, params: { log: ${log}, ticks: ${ticks}, ms: 6000 } }
  thread: { handler: jobs/worker.mjs, mode: thread, schedule: { every: 2s }, overlap: skip, retries: 1, params: { log: ${log}, ticks: ${ticks}, ms: 6000 } }
`,
    );
    const url = db.url({ lease: "3s", reap: "500ms" });
    // The first replica alone until both jobs run in it; then the second joins.
    await using replicas = stoppedAtEnd([await startReplica(project.dir, url)]);
    const owner = replicas[0]!;
    await owner.waitForLog((e) => e.event === "run-started" && e.job === "inline", 10_000);
    await owner.waitForLog((e) => e.event === "run-started" && e.job === "thread", 10_000);
    const other = await startReplica(project.dir, url);
    replicas.push(other);
    // Paused once both have read the group with the other in it.
    await tended(db, replicas, { tends: 1 });
    owner.child.kill("SIGSTOP");
    // Past the lease (3 s): the other replica reaps both runs and takes attempt 2.
    await Promise.all(["inline", "thread"].map((job) => other.waitForLog((e) => e.event === "run-taken-over" && e.job === job, 15_000)));
    // Woken once both attempts 2 run (each ticks as it starts), beside the paused attempts 1.
    await waitFor(() => new Set(loggedLines(project.path("ticks.log")).filter((t) => t[1] === "2").map((t) => t[0])).size >= 2, 10_000, "attempt 2 of both runs to tick");
    const wokeAt = Date.now();
    owner.child.kill("SIGCONT");
    await owner.waitForLog((e) => e.event === "run-ownership-lost", 5_000);
    // Attempt 2 ends (6 s), and the owner is still up.
    const settled = await waitFor(() => db.query<{ status: string }>(`SELECT status FROM "${db.name}".runs WHERE attempt = 2 AND status = 'ok'`), { until: (rows) => rows.length >= 2, timeoutMs: 20_000, everyMs: 100, what: "both attempts 2 recorded ok" });
    expect(settled.length).toBeGreaterThanOrEqual(2);
    expect(owner.child.exitCode).toBeNull();

    // The woken owner's executions of the runs taken over stopped at once: no tick of their
    // attempt 1 in the owner more than 500 ms after it woke. (A later fire the woken owner
    // claims is a new run with an attempt 1 of its own, and may tick then.)
    const tickLines = loggedLines(project.path("ticks.log"));
    const takenOver = new Set(tickLines.filter((t) => t[1] === "2").map((t) => t[0]!));
    expect(takenOver.size).toBe(2);
    const ownerTicks = tickLines.filter((t) => takenOver.has(t[0]!) && t[1] === "1" && Number(t[2]) === owner.child.pid).map((t) => Number(t[3]));
    expect(ownerTicks.length).toBeGreaterThan(0);
    expect(Math.max(...ownerTicks)).toBeLessThan(wokeAt + 500);
    expect(await Promise.all(replicas.map(stopReplica))).toEqual([0, 0]);
    // The documented limit: a handler whose own timer fell due during the pause may finish in
    // the instant it wakes, before the abort reaches it (a worker thread runs beside the main
    // thread). Its result is not recorded; anything else it did, it did twice.
    const pausedAttempts = executions(project.path("exec.log")).filter((e) => e.pid === owner.child.pid && e.attempt === 1 && takenOver.has(e.runId));
    expect(pausedAttempts.length).toBeGreaterThanOrEqual(1);
    for (const e of pausedAttempts) expect(e.end).toBeLessThan(wokeAt + 500);
    // Attempt 1 spanned the pause, so it overlaps attempt 2 in wall time; it did not run beside it (ticks above).
    expect(await runOnceViolations(db, project.path("exec.log"), { overlapAllowed: takenOver, excused: (e) => pausedAttempts.some((p) => p.runId === e.runId && p.attempt === e.attempt && p.pid === e.pid) })).toEqual(NO_VIOLATIONS);
    const recorded = await db.query<{ status: string; attempt: number }>(`SELECT status, attempt FROM "${db.name}".runs WHERE run_id = ANY($1)`, [[...takenOver]]);
    expect(recorded).toEqual([{ status: "ok", attempt: 2 }, { status: "ok", attempt: 2 }]);
  }, 120_000);

  test("kill -9 of a replica, then a rolling deploy of a new manifest: every run once, none lost that completed, none stuck", async () => {
    await using db = await databaseOn(server);
    await using project = tempProject({ "jobs/worker.mjs": WORKER });
    await using next = tempProject({ "jobs/worker.mjs": WORKER });
    project.write("jobs.yaml", manifest(project));
    // The new release: same jobs, other params (another spec), written later.
    const nextYaml = next.write("jobs.yaml", manifest(project, ", release: 2"));
    const url = db.url({ lease: "3s", reap: "500ms" });
    await using old = stoppedAtEnd(await Promise.all([0, 1, 2].map(() => startReplica(project.dir, url))));
    await using fresh = stoppedAtEnd([]);
    // The victim: a replica that has run something (a loaded machine can take seconds to
    // start three; with the schedule split, a replica may own none of the three jobs), and
    // whose record of it landed: a kill between a handler's end and its record loses a run
    // that completed (no replica can know it did), which is not what this test is about.
    const recordedOk = async () => {
      const ran = executions(project.path("exec.log")).filter((e) => e.outcome === "ok" && old.some((r) => r.child.pid === e.pid));
      if (ran.length === 0) return undefined;
      const ok = await db.query<{ run_id: string; attempt: number }>(`SELECT run_id, attempt FROM "${db.name}".runs WHERE run_id = ANY($1) AND status = 'ok'`, [ran.map((e) => e.runId)]);
      return ran.find((e) => ok.some((r) => r.run_id === e.runId && r.attempt === e.attempt));
    };
    const first = await waitFor(recordedOk, { until: (e) => e !== undefined, timeoutMs: 30_000, everyMs: 20, what: "an execution by one of the replicas, recorded ok" });
    const victim = old.find((r) => r.child.pid === first!.pid)!;
    victim.child.kill("SIGKILL");
    await victim.exited;
    // The deploy starts once the group has seen the death: the victim's heartbeat is older than its lease (3 s), and no run of it is left running.
    const victimPid = String(victim.child.pid);
    await waitFor(
      async () =>
        (await db.query(`SELECT 1 FROM "${db.name}".replicas WHERE split_part(owner, ':', 2) = $1 AND seen_at > now() - interval '3 seconds'`, [victimPid])).length === 0 &&
        (await db.query(`SELECT 1 FROM "${db.name}".fires WHERE split_part(ran_by, ':', 2) = $1 AND state = 'running'`, [victimPid])).length === 0,
      15_000,
      "the victim's death to be seen",
    );
    // Rolling: a new replica up, an old one down, twice, then a third new one.
    const now = new Date();
    utimesSync(nextYaml, now, now);
    for (const retiring of old.filter((r) => r !== victim)) {
      fresh.push(await startReplica(next.dir, url));
      await sleep(ROLL_OVERLAP_MS);
      expect(await stopReplica(retiring)).toBe(0);
    }
    fresh.push(await startReplica(next.dir, url));
    const windowFrom = Date.now();
    await sleep(AFTER_DEPLOY_MS);
    const windowTo = Date.now();
    expect(await Promise.all(fresh.map(stopReplica))).toEqual([0, 0, 0]);

    expect(await runOnceViolations(db, project.path("exec.log"))).toEqual(NO_VIOLATIONS);
    // The killed replica's run in flight (if any) was reaped: lost, or retried elsewhere.
    const victimRuns = executions(project.path("exec.log")).filter((e) => e.pid === victim.child.pid);
    expect(victimRuns.length).toBeGreaterThan(0);
    // Fires kept running through the deploy: ticks in each of the last few seconds.
    const recent = await db.query<{ n: string }>(`SELECT count(*) AS n FROM "${db.name}".runs WHERE job = 'tick' AND status = 'ok' AND scheduled_at BETWEEN $1 AND $2`, [new Date(windowFrom + 1000), new Date(windowTo - 1000)]);
    expect(Number(recent[0]!.n)).toBeGreaterThanOrEqual(3);
  }, 120_000);
});
