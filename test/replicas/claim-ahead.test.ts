import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { createRunner, type Runner } from "../../runner/runner.js";
import { silentLogger } from "../../runner/log/logger.js";
import type { FireClaimRequest } from "../../runner/store/fire-claims.js";
import { openPostgresStore, type PostgresStore } from "../../runner/store/postgres/index.js";
import { postgresSettings } from "../../runner/store/postgres/pg-config.js";
import { tempProject, type TempProject } from "../support/temp-project.js";
import { startReplica, stopReplica, testSchema, type TestSchema } from "./pg-support.js";
import { loggedLines } from "../support/logged-lines.js";
import { waitFor } from "../support/poll.js";

// Claiming ahead on a real PostgreSQL database: a scheduled fire is claimed `claimAhead`
// before its time and its handler starts at its time; what is claimed runs, through a
// stop; a replica killed between its claim and the fire's time leaves an honest history.

/** Returns when its handler started (wall ms) and appends it to the log in params. */
const STAMP = `import { appendFileSync } from "node:fs";
export default (ctx) => { const at = Date.now(); appendFileSync(ctx.params.log, \`\${ctx.fireDate.toISOString()} \${at}\\n\`); return at; };
`;

/** Logs its fire and start, then naps `ms` before it ends. */
const NAP = `import { appendFileSync } from "node:fs";
export default async (ctx) => { appendFileSync(ctx.params.log, \`\${ctx.fireDate.toISOString()} \${Date.now()}\\n\`); await new Promise((r) => setTimeout(r, ctx.params.ms)); };
`;

let schema: TestSchema;
beforeAll(async () => {
  schema = await testSchema();
});
afterAll(async () => {
  await schema?.drop();
});

function project(schedule = "every: 1s"): TempProject {
  const p = tempProject({ "jobs/stamp.mjs": STAMP });
  p.write("jobs.yaml", `version: 1\njobs:\n  stamp: { handler: jobs/stamp.mjs, schedule: { ${schedule} }, overlap: allow, params: { log: ${JSON.stringify(p.path("runs.log"))} } }\n`);
  return p;
}

/** A runner in this process whose won claims are noted with the wall time they came back. */
async function claimingRunner(p: TempProject, params: Record<string, string>): Promise<{ runner: Runner; store: PostgresStore; won: Array<{ request: FireClaimRequest; at: number }> }> {
  const store = await openPostgresStore(schema.url(params), { logger: silentLogger() });
  const won: Array<{ request: FireClaimRequest; at: number }> = [];
  const claim = store.claimFire.bind(store);
  store.claimFire = async (request) => {
    const outcome = await claim(request);
    if (outcome.won) won.push({ request, at: Date.now() });
    return outcome;
  };
  const runner = createRunner({ manifest: p.path("jobs.yaml"), store, logger: silentLogger(), shutdownGraceMs: 5_000 });
  await runner.start();
  return { runner, store, won };
}

describe("claiming ahead", () => {
  test("?claimAhead= is read, bounded by the lease, 0 turns it off; the default is 500 ms", () => {
    const url = "postgres://u@h/db";
    expect(postgresSettings(url).claimAheadMs).toBe(500);
    expect(postgresSettings(`${url}?claimAhead=250ms`).claimAheadMs).toBe(250);
    expect(postgresSettings(`${url}?claimAhead=0`).claimAheadMs).toBe(0);
    // A short lease lowers the default to lease / 3.
    expect(postgresSettings(`${url}?lease=600ms`).claimAheadMs).toBe(200);
    expect(() => postgresSettings(`${url}?claimAhead=soon`)).toThrow('?claimAhead= must be a duration like 500ms, or 0 to claim each fire at its time (got "soon")');
    expect(() => postgresSettings(`${url}?lease=3s&claimAhead=1s`)).toThrow('?claimAhead= must be shorter than a third of the lease (1000ms with a 3000ms lease), when the claim\'s first renewal comes (got "1s")');
    expect(() => postgresSettings(url, { claimAheadMs: -5 })).toThrow(/claimAheadMs must be a duration/);
  });

  test("each fire is claimed before its time and its handler starts at its time, not when the claim returns", async () => {
    await using p = project();
    const { runner, won } = await claimingRunner(p, { claimAhead: "500ms" });
    try {
      await waitFor(() => loggedLines(p.path("runs.log")), { until: (lines) => lines.length >= 4, timeoutMs: 15_000, what: "4 runs of stamp" });
    } finally {
      await runner.stop();
    }
    const runs = (await schema.query<{ run_id: string; status: string; scheduled_at: Date; started_at: Date; result: string }>(`SELECT run_id, status, scheduled_at, started_at, result FROM "${schema.name}".runs WHERE job = 'stamp' AND status = 'ok'`));
    expect(runs.length).toBeGreaterThanOrEqual(3);
    for (const run of runs) {
      const due = run.scheduled_at.getTime();
      const claimed = won.find((w) => w.request.runId === run.run_id);
      // The claim came back before the fire's time (500 ms of lead against a few ms of claim)...
      expect(claimed!.at, run.run_id).toBeLessThan(due);
      // ...and the handler waited for the time, then started at once (a generous bound on a shared machine).
      const handlerAt = Number(JSON.parse(run.result));
      expect(handlerAt - due, run.run_id).toBeGreaterThanOrEqual(0);
      expect(handlerAt - due, run.run_id).toBeLessThan(250);
      // The history's start is the run's real start, not the claim's.
      expect(run.started_at.getTime(), run.run_id).toBeGreaterThanOrEqual(due);
    }
  });

  test("an overlap: skip job (the default) is claimed ahead while no run of it is live, and at its time while one is: a run ending within the lead skips nothing", async () => {
    await using p = tempProject({ "jobs/nap.mjs": NAP });
    const log = (name: string) => JSON.stringify(p.path(`${name}.log`));
    // quick: nothing live when its next fire is claimed; long: its run (700 ms) is live when
    // the next fire is claimed (500 ms ahead), and has ended at that fire's time.
    p.write("jobs.yaml", `version: 1
jobs:
  quick: { handler: jobs/nap.mjs, schedule: { every: 1s }, params: { log: ${log("quick")}, ms: 0 } }
  long: { handler: jobs/nap.mjs, schedule: { every: 1s }, params: { log: ${log("long")}, ms: 700 } }
`);
    const { runner, won } = await claimingRunner(p, { claimAhead: "500ms" });
    try {
      await waitFor(() => loggedLines(p.path("long.log")), { until: (lines) => lines.length >= 4, timeoutMs: 15_000, what: "4 runs of long" });
    } finally {
      await runner.stop();
    }
    const runs = await schema.query<{ run_id: string; job: string; status: string; scheduled_at: Date; started_at: Date | null }>(`SELECT run_id, job, status, scheduled_at, started_at FROM "${schema.name}".runs ORDER BY scheduled_at`);
    const quick = runs.filter((r) => r.job === "quick");
    const long = runs.filter((r) => r.job === "long");
    expect(quick.length).toBeGreaterThanOrEqual(3);
    for (const run of quick) {
      expect(run.status, run.run_id).toBe("ok");
      expect(won.find((w) => w.request.runId === run.run_id)!.at, run.run_id).toBeLessThan(run.scheduled_at.getTime());
      expect(run.started_at!.getTime(), run.run_id).toBeGreaterThanOrEqual(run.scheduled_at.getTime());
    }
    // No fire of the long job was skipped: each, after the first, was claimed at its time.
    expect(long.map((r) => r.status).filter((s) => s !== "ok"), JSON.stringify(long)).toEqual([]);
    expect(long.length).toBeGreaterThanOrEqual(4);
    for (const run of long.slice(1)) expect(won.find((w) => w.request.runId === run.run_id)!.at, run.run_id).toBeGreaterThanOrEqual(run.scheduled_at.getTime());
  });

  test("a stop between a fire's claim and its time still runs it, once, at its time, before the stop returns", async () => {
    await using p = project();
    const { runner, store } = await claimingRunner(p, { claimAhead: "600ms" });
    let stopAt = 0;
    let stopping: Promise<void> | null = null;
    let fire: FireClaimRequest | null = null;
    const claim = store.claimFire;
    store.claimFire = async (request) => {
      const outcome = await claim(request);
      // The first fire won while still well ahead of its time: stop the runner right then.
      if (outcome.won && !stopping && request.scheduledAt.getTime() - Date.now() > 100) {
        fire = request;
        stopAt = Date.now();
        stopping = runner.stop();
      }
      return outcome;
    };
    await waitFor(() => stopping !== null, 15_000, "a fire won well ahead of its time, and the stop");
    await stopping;
    const { scheduledAt } = fire!;
    const due = scheduledAt.getTime();
    expect(stopAt).toBeLessThan(due);
    const rows = await schema.query<{ status: string; started_at: Date }>(`SELECT status, started_at FROM "${schema.name}".runs WHERE job = 'stamp' AND scheduled_at = $1`, [scheduledAt]);
    expect(rows.map((r) => r.status)).toEqual(["ok"]);
    expect(rows[0]!.started_at.getTime()).toBeGreaterThanOrEqual(due);
    // Executed once, at its time.
    const executed = loggedLines(p.path("runs.log")).filter(([fireDate]) => fireDate === scheduledAt.toISOString());
    expect(executed).toHaveLength(1);
    expect(Number(executed[0]![1])).toBeGreaterThanOrEqual(due);
  });

  test("a replica killed between its claim and the fire's time: the fire is recorded lost after its lease, honestly (never started), and not run by anyone", async () => {
    await using p = project("every: 5s");
    const url = schema.url({ lease: "6s", reap: "500ms", claimAhead: "1500ms" });
    const [a, b] = await Promise.all([startReplica(p.dir, url), startReplica(p.dir, url)]);
    try {
      // The next fire claimed ahead (its row exists, `running`, while its time is still to come).
      const claimed = await waitFor(
        () => schema.query<{ owner: string; scheduled_at: Date; run_id: string }>(`SELECT owner, scheduled_at, run_id FROM "${schema.name}".fires WHERE job = 'stamp' AND state = 'running' AND scheduled_at > now() + interval '200 milliseconds'`),
        { until: (rows) => rows.length > 0, timeoutMs: 15_000, everyMs: 100, what: "a fire claimed ahead of its time" },
      );
      const { owner, scheduled_at: due, run_id: runId } = claimed[0]!;
      const [victim, survivor] = owner.includes(`:${a.child.pid}:`) ? [a, b] : [b, a];
      victim.child.kill("SIGKILL");
      await victim.exited;
      expect(Date.now()).toBeLessThan(due.getTime());
      const lost = await waitFor(
        () => schema.query<{ status: string; started_at: Date | null; error: string }>(`SELECT status, started_at, error FROM "${schema.name}".runs WHERE run_id = $1`, [runId]),
        { until: (rows) => rows[0]?.status === "lost", timeoutMs: 20_000, everyMs: 100, what: `run ${runId} recorded lost` },
      );
      expect(lost[0]).toMatchObject({ status: "lost", started_at: null });
      expect(JSON.parse(lost[0]!.error).message).toMatch(/stopped renewing its lease before its start was recorded; whether it started is unknown$/);
      // Nobody ran it: the survivor's claim of the same fire was `taken`, and a run lost with no attempts left is not retried.
      expect(loggedLines(p.path("runs.log")).filter(([fireDate]) => fireDate === due.toISOString())).toEqual([]);
      // The survivor goes on firing the job.
      await waitFor(() => loggedLines(p.path("runs.log")).some(([fireDate]) => Date.parse(fireDate!) > due.getTime()), 15_000, "a later fire run by the survivor");
      expect(await stopReplica(survivor)).toBe(0);
    } finally {
      await Promise.all([a, b].map(stopReplica));
    }
  }, 60_000);
});
