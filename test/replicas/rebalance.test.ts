import { afterAll, beforeAll, expect, test } from "vitest";
import { createRunner, type Runner } from "../../runner/runner.js";
import { silentLogger } from "../../runner/log/logger.js";
import { openPostgresStore } from "../../runner/store/postgres/index.js";
import type { FireClaimRequest } from "../../runner/store/fire-claims.js";
import { tempProject } from "../support/temp-project.js";
import { sleep, startReplica, stopReplica, tended, testSchema, type TestSchema } from "./pg-support.js";
import { waitFor } from "../support/poll.js";
import { loggedLines } from "../support/logged-lines.js";
import { ownerOf, ranked } from "../../runner/coordinate/rendezvous.js";

/**
 * Partitioned scheduling under membership changes, on a real PostgreSQL database: each
 * job's schedule is armed in one replica, and a replica joining, leaving or dying moves
 * jobs between them. Every fire must still run exactly once.
 */

let schema: TestSchema;
beforeAll(async () => {
  schema = await testSchema();
});
afterAll(async () => {
  await schema?.drop();
});

// In-process runners share globalThis: each execution is counted by (job, fire time).
const COUNT = `export default (ctx) => {
  const runs = (globalThis.__rebalanceRuns ??= new Map());
  const key = ctx.job + " " + ctx.fireDate.getTime();
  runs.set(key, (runs.get(key) ?? 0) + 1);
};
`;
const JOBS = 1000;
/** How long the group stays as it is after each change. */
const PHASE_MS = 6000;

function manifest(jobs: number, line: (i: number) => string): string {
  return `version: 1\njobs:\n${Array.from({ length: jobs }, (_, i) => `  j${i}: ${line(i)}`).join("\n")}\n`;
}

test("replicas join and leave while 1,000 jobs fire each second: every fire runs exactly once, a change moves only the jobs it must, about one claim per fire", async () => {
  // lateness 10s and a lease of 10s: this test is about the moves, not about a loaded 2-core
  // machine starting 1,000 runs late or pausing the process (three runners) past a 2 s lease.
  // A reap of 1 s: each replica reads the group every second, and a change's overlap (one reap,
  // when old and new owners both claim and either may win) is over well before the phase's
  // last second, whose winners are read as the owners.
  await using project = tempProject({ "h.mjs": COUNT, "jobs.yaml": manifest(JOBS, () => "{ handler: h.mjs, schedule: { every: 1s }, overlap: allow, lateness: 10s }") });
  const runs = ((globalThis as { __rebalanceRuns?: Map<string, number> }).__rebalanceRuns = new Map());
  const claimed: number[] = [];
  const live = new Map<string, { runner: Runner; owner: string }>();
  const add = async (name: string) => {
    const store = await openPostgresStore(schema.url({ lease: "10s", reap: "1s" }), { logger: silentLogger(), partition: true });
    const claim = store.claimFire.bind(store);
    store.claimFire = (c: FireClaimRequest) => (claimed.push(c.scheduledAt.getTime()), claim(c));
    const runner = createRunner({ manifest: project.path("jobs.yaml"), store, logger: silentLogger(), shutdownGraceMs: 5000 });
    await runner.start();
    live.set(name, { runner, owner: store.owner });
  };
  const leave = async (name: string) => {
    await live.get(name)!.runner.stop();
    live.delete(name);
  };
  const owners: Record<string, string> = {};
  /** Who ran each job's fire at `second` (ms): the owner once a change's overlap is over. */
  const ranBy = async (second: number) => {
    const rows = await schema.query<{ job: string; ran_by: string }>(`SELECT job, ran_by FROM "${schema.name}".fires WHERE scheduled_at = $1 AND source = 'schedule'`, [new Date(second)]);
    return new Map(rows.map((r) => [r.job, Object.keys(owners).find((n) => owners[n] === r.ran_by) ?? r.ran_by]));
  };
  const second = () => Math.floor(Date.now() / 1000) * 1000;
  try {
    await Promise.all([add("a"), add("b")]);
    for (const [name, { owner }] of live) owners[name] = owner;
    const from = second() + 2000;
    await sleep(PHASE_MS);
    const phases: number[] = [second() - 1000];
    await add("c");
    owners.c = live.get("c")!.owner;
    await sleep(PHASE_MS);
    phases.push(second() - 1000);
    await leave("b");
    await sleep(PHASE_MS);
    phases.push(second() - 1000);
    await add("d");
    owners.d = live.get("d")!.owner;
    await sleep(PHASE_MS);
    phases.push(second() - 1000);
    const to = second() - 1000; // fires before `to` were all due while the group was steady or changing, never stopping
    await Promise.all([...live.keys()].map(leave));

    // Every fire in the window: one execution, one fire row, run.
    const fires = await schema.query<{ job: string; at: Date; state: string }>(`SELECT job, scheduled_at AS at, state FROM "${schema.name}".fires WHERE source = 'schedule' AND scheduled_at >= $1 AND scheduled_at < $2`, [new Date(from), new Date(to)]);
    const seconds = (to - from) / 1000;
    expect(seconds).toBeGreaterThanOrEqual(20);
    // On a failure, which seconds (against the changes' times) lack fires, and in what state.
    const states = new Map(fires.map((f) => [`${f.job} ${f.at.getTime()}`, f.state]));
    const notDone: Record<string, number> = {};
    for (let at = from; at < to; at += 1000) {
      for (let i = 0; i < JOBS; i++) {
        const state = states.get(`j${i} ${at}`) ?? "no row";
        if (state !== "done") notDone[`${new Date(at).toISOString()} ${state}`] = (notDone[`${new Date(at).toISOString()} ${state}`] ?? 0) + 1;
      }
    }
    expect(notDone, `changes at ${phases.map((p) => new Date(p + 1000).toISOString()).join(", ")}`).toEqual({});
    expect(fires.length).toBe(JOBS * seconds);
    const wrong: string[] = [];
    for (let at = from; at < to; at += 1000) for (let i = 0; i < JOBS; i++) if (runs.get(`j${i} ${at}`) !== 1) wrong.push(`j${i}@${new Date(at).toISOString()}: ${runs.get(`j${i} ${at}`) ?? 0}`);
    expect(wrong.slice(0, 10)).toEqual([]);

    // Each change moved only the jobs it had to: to the joiner, or from the leaver; about 1/3 each time.
    const [ab, abc, ac, acd] = await Promise.all(phases.map(ranBy));
    const moved = (x: Map<string, string>, y: Map<string, string>) => [...x].filter(([job, owner]) => y.get(job) !== owner).map(([job, owner]) => ({ job, was: owner, now: y.get(job) }));
    const join1 = moved(ab!, abc!);
    expect(join1.every((m) => m.now === "c")).toBe(true);
    const leaveB = moved(abc!, ac!);
    expect(leaveB.every((m) => m.was === "b")).toBe(true);
    expect(leaveB.length).toBe([...abc!.values()].filter((o) => o === "b").length);
    const join2 = moved(ac!, acd!);
    expect(join2.every((m) => m.now === "d")).toBe(true);
    // Once a change's overlap is over, the winner of each fire is the job's rendezvous owner among the members.
    const groups = [["a", "b"], ["a", "b", "c"], ["a", "c"], ["a", "c", "d"]];
    [ab, abc, ac, acd].forEach((winners, i) => {
      const members = ranked(groups[i]!.map((n) => owners[n]!));
      const elsewhere = [...winners!].filter(([job, winner]) => owners[winner] !== ownerOf(job, members)).length;
      expect(elsewhere / JOBS, `phase ${groups[i]!.join("")}`).toBeLessThan(0.05);
    });
    for (const change of [join1, leaveB, join2]) {
      expect(change.length / JOBS).toBeGreaterThan(0.2);
      expect(change.length / JOBS).toBeLessThan(0.47);
    }

    // One claim per fire in steady state; each change adds only its overlap's.
    const claims = claimed.filter((at) => at >= from && at < to).length;
    expect(claims / fires.length).toBeLessThan(1.3);
  } finally {
    await Promise.all([...live.values()].map(({ runner }) => runner.stop().catch(() => undefined)));
  }
}, 90_000);

// Each execution appends `job fireTime pid startTime`.
const LOG = `import { appendFileSync } from "node:fs";
export default (ctx) => { appendFileSync(ctx.params.log, \`\${ctx.job} \${ctx.fireDate.getTime()} \${process.pid} \${Date.now()}\\n\`); };
`;

/** Kill test: the victim dies holding a claim of a fire at least this far into the checked window. */
const KILL_AFTER_MS = 2000;
/** Kill test: the fires checked run to this long after the second of the kill. */
const TAKEOVER_WINDOW_MS = 5000;

test("kill -9 of a replica: its jobs are taken over within lease + reap, the fires it missed meanwhile run late (catchUp: all), none twice", async () => {
  await using project = tempProject({ "h.mjs": LOG });
  const log = project.path("runs.log");
  project.write("jobs.yaml", manifest(60, () => `{ handler: h.mjs, schedule: { every: 1s }, overlap: allow, catchUp: all, startingDeadline: 1m, params: { log: ${JSON.stringify(log)} } }`));
  const url = schema.url({ schema: `${schema.name}_kill`, partition: "on" });
  const replicas = await Promise.all([0, 1, 2].map(() => startReplica(project.dir, url)));
  const read = () => loggedLines(log).map(([job, at, pid, start]) => ({ job: job!, at: Number(at), pid: Number(pid), start: Number(start) }));
  const kill = `${schema.name}_kill`;
  try {
    await tended(schema, replicas, { schema: kill });
    const from = Math.floor(Date.now() / 1000) * 1000;
    const victim = replicas[0]!;
    // Killed once it has claimed fires ahead of their time (500 ms, the default), so it dies
    // holding them; a fire at least KILL_AFTER_MS into the window, so fires before the kill are checked too.
    await waitFor(
      async () => (await schema.query(`SELECT 1 FROM "${kill}".fires WHERE split_part(ran_by, ':', 2) = $1 AND scheduled_at > now() AND scheduled_at >= $2 LIMIT 1`, [String(victim.child.pid), new Date(from + KILL_AFTER_MS)])).length > 0,
      15_000,
      "the victim to claim a fire ahead of its time",
    );
    const killedAt = Date.now();
    victim.child.kill("SIGKILL");
    await victim.exited;
    // The fires due up to TAKEOVER_WINDOW_MS after the kill's second: those missed while the victim still looked alive
    // (lease 2 s + reap 0.5 s), then on time again. Each ends: run (once, checked below) or lost (claimed ahead by the victim).
    const to = Math.floor(killedAt / 1000) * 1000 + TAKEOVER_WINDOW_MS;
    const settled = async () => (await schema.query<{ n: string }>(`SELECT count(DISTINCT (job, scheduled_at)) AS n FROM "${kill}".fires WHERE scheduled_at >= $1 AND scheduled_at < $2 AND state NOT IN ('running', 'retry')`, [new Date(from), new Date(to)]))[0]!.n;
    await waitFor(async () => Number(await settled()) === 60 * ((to - from) / 1000), 30_000, `every fire of the 60 jobs in [${new Date(from).toISOString()}, ${new Date(to).toISOString()}) to end`);
    expect(await Promise.all(replicas.slice(1).map(stopReplica))).toEqual([0, 0]);

    const execs = read();
    const victimJobs = new Set(execs.filter((e) => e.pid === victim.child.pid).map((e) => e.job));
    expect(victimJobs.size).toBeGreaterThan(5);
    const count = new Map<string, number>();
    for (const e of execs) count.set(`${e.job} ${e.at}`, (count.get(`${e.job} ${e.at}`) ?? 0) + 1);
    // Fires the victim claimed ahead (500 ms, the default) and died before their time are
    // lost with it, as any run it held: recorded `lost` with no start, run by nobody.
    const lostRows = await schema.query<{ job: string; at: Date }>(`SELECT job, scheduled_at AS at FROM "${kill}".runs WHERE status = 'lost' AND started_at IS NULL AND scheduled_at > $1`, [new Date(killedAt)]);
    expect(lostRows.length).toBeGreaterThan(0);
    for (const r of lostRows) {
      expect(victimJobs.has(r.job), r.job).toBe(true);
      expect(r.at.getTime() - killedAt).toBeLessThanOrEqual(500);
    }
    const lost = new Set(lostRows.map((r) => `${r.job} ${r.at.getTime()}`));
    const wrong: string[] = [];
    for (let at = from; at < to; at += 1000) {
      for (let i = 0; i < 60; i++) if (count.get(`j${i} ${at}`) !== (lost.has(`j${i} ${at}`) ? undefined : 1)) wrong.push(`j${i}@${at - from}: ${count.get(`j${i} ${at}`) ?? 0}`);
    }
    expect(wrong).toEqual([]);
    // The victim's fires after it died ran elsewhere: late by at most lease (2 s) + reap (0.5 s), with slack for a loaded machine.
    const takenOver = execs.filter((e) => victimJobs.has(e.job) && e.at > killedAt && e.at < to);
    expect(takenOver.every((e) => e.pid !== victim.child.pid)).toBe(true);
    // The first of them is due at least 1.4 s after the kill, and is seen at least 2 s after the victim's last heartbeat.
    const late = takenOver.filter((e) => e.start - e.at > 100);
    expect(late.length).toBeGreaterThan(0);
    expect(Math.max(...takenOver.map((e) => e.start - e.at))).toBeLessThan(2000 + 500 + 2500);
  } finally {
    await Promise.all(replicas.map(stopReplica));
  }
}, 60_000);

/** Graceful-stop test: how long the two left run on after the stop: past a reap period (3 s), in which the leaver's jobs would lie unarmed without the handoff. */
const AFTER_LEAVE_MS = 7000;

test("a graceful stop hands its jobs over: with the default lateness (1 s) and a reap period (3 s) longer than it, no fire is skipped late or missed, none runs twice", async () => {
  await using project = tempProject({ "h.mjs": LOG });
  const log = project.path("runs.log");
  project.write("jobs.yaml", manifest(60, () => `{ handler: h.mjs, schedule: { every: 1s }, overlap: allow, params: { log: ${JSON.stringify(log)} } }`));
  const url = schema.url({ schema: `${schema.name}_leave`, lease: "9s", reap: "3s", partition: "on" });
  const replicas = await Promise.all([0, 1, 2].map(() => startReplica(project.dir, url)));
  try {
    // Steady first: every replica has read the others and its overlap is over.
    await tended(schema, replicas, { schema: `${schema.name}_leave` });
    const from = Math.floor(Date.now() / 1000) * 1000;
    expect(await stopReplica(replicas[0]!)).toBe(0);
    await sleep(AFTER_LEAVE_MS);
    const to = Math.floor(Date.now() / 1000) * 1000 - 1000;
    expect(await Promise.all(replicas.slice(1).map(stopReplica))).toEqual([0, 0]);

    const fires = await schema.query<{ job: string; state: string; late: number }>(
      `SELECT job, state, extract(epoch FROM claimed_at - scheduled_at) * 1000 AS late FROM "${schema.name}_leave".fires WHERE scheduled_at >= $1 AND scheduled_at < $2`,
      [new Date(from), new Date(to)],
    );
    const seconds = (to - from) / 1000;
    expect(seconds).toBeGreaterThanOrEqual(6);
    expect(fires.length).toBe(60 * seconds);
    expect(fires.filter((f) => f.state !== "done")).toEqual([]);
    // Claimed on time: the others armed the leaver's jobs before it stopped firing them (without the handoff, its fires wait up to a reap period).
    expect(fires.filter((f) => f.late > 500)).toEqual([]);
    const count = new Map<string, number>();
    for (const [job, at] of loggedLines(log)) {
      count.set(`${job} ${at}`, (count.get(`${job} ${at}`) ?? 0) + 1);
    }
    const wrong: string[] = [];
    for (let at = from; at < to; at += 1000) for (let i = 0; i < 60; i++) if (count.get(`j${i} ${at}`) !== 1) wrong.push(`j${i}@${at - from}: ${count.get(`j${i} ${at}`) ?? 0}`);
    expect(wrong).toEqual([]);
  } finally {
    await Promise.all(replicas.map(stopReplica));
  }
}, 60_000);
