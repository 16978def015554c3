import { existsSync, utimesSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { runCli, type CliProcess } from "../support/cli.js";
import { tempProject } from "../support/temp-project.js";
import { waitFor } from "../support/poll.js";
import { logEntries, sleep, startReplica, stopReplica, testSchema, type TestSchema } from "./pg-support.js";
import { loggedLines } from "../support/logged-lines.js";

// Handlers write one line per execution, so the tests see what ran, not only what was recorded.
const TICK = `import { appendFileSync } from "node:fs";
export default async (ctx) => { appendFileSync(ctx.params.log, \`\${ctx.fireDate.toISOString()} \${process.pid} \${ctx.attempt}\\n\`); return process.pid; };
`;
const SLOW = `import { appendFileSync } from "node:fs";
export default async (ctx) => {
  const start = Date.now();
  await new Promise((r) => setTimeout(r, ctx.params.ms));
  appendFileSync(ctx.params.log, \`\${start} \${Date.now()} \${process.pid} \${ctx.runId}\\n\`);
};
`;
// The first execution (any replica) hangs until it is killed; later ones return at once.
const HANG_ONCE = `import { appendFileSync, existsSync, writeFileSync } from "node:fs";
export default async (ctx) => {
  appendFileSync(ctx.params.log, \`\${ctx.runId} \${ctx.attempt} \${process.pid}\\n\`);
  if (!existsSync(ctx.params.marker)) {
    writeFileSync(ctx.params.marker, String(process.pid));
    await new Promise((r) => setTimeout(r, 60_000));
  }
  return process.pid;
};
`;


/** Intervals [start, end] that overlap in time, pairwise. */
function overlapping(intervals: number[][]): number[][][] {
  const sorted = [...intervals].sort((a, b) => a[0]! - b[0]!);
  return sorted.slice(1).flatMap((iv, i) => (iv[0]! < sorted[i]![1]! ? [[sorted[i]!, iv]] : []));
}

/** The first test: how long the group (three replicas and one on an older manifest) fires before its history is read. */
const STEADY_MS = 8_000;

let schema: TestSchema;
beforeAll(async () => {
  schema = await testSchema();
});
afterAll(async () => {
  await schema?.drop();
});

describe("several replicas on one PostgreSQL database", () => {
  test("three replicas, a job each second: every fire in the history exactly once; skip holds across replicas; a replica on an older manifest claims nothing", async () => {
    await using project = tempProject({ "jobs/tick.mjs": TICK, "jobs/slow.mjs": SLOW });
    const tickLog = project.path("tick.log");
    const slowLog = project.path("slow.log");
    project.write("jobs.yaml", `version: 1\njobs:\n  tick: { handler: jobs/tick.mjs, schedule: { every: 1s }, params: { log: ${JSON.stringify(tickLog)} } }\n  slow: { handler: jobs/slow.mjs, schedule: { every: 1s }, overlap: skip, params: { log: ${JSON.stringify(slowLog)}, ms: 2500 } }\n`);
    // The older manifest: other params (so another spec hash), written an hour earlier.
    await using old = tempProject({ "jobs/tick.mjs": TICK, "jobs/slow.mjs": SLOW });
    const oldYaml = old.write("jobs.yaml", `version: 1\njobs:\n  tick: { handler: jobs/tick.mjs, schedule: { every: 1s }, params: { log: ${JSON.stringify(tickLog)}, v: 0 } }\n  slow: { handler: jobs/slow.mjs, schedule: { every: 1s }, overlap: skip, params: { log: ${JSON.stringify(slowLog)}, ms: 2500, v: 0 } }\n`);
    const hourAgo = new Date(Date.now() - 3_600_000);
    utimesSync(oldYaml, hourAgo, hourAgo);

    const url = schema.url();
    const replicas: CliProcess[] = [];
    try {
      replicas.push(...(await Promise.all([0, 1, 2].map(() => startReplica(project.dir, url)))));
      const stale = await startReplica(old.dir, url);
      replicas.push(stale);
      const from = Date.now();
      await sleep(STEADY_MS);
      const to = Date.now();
      expect(await Promise.all(replicas.map(stopReplica))).toEqual([0, 0, 0, 0]);

      const tickRuns = await schema.query<{ scheduled_at: Date; n: string; statuses: string }>(
        `SELECT scheduled_at, count(*) AS n, string_agg(status, ',') AS statuses FROM "${schema.name}".runs WHERE job = 'tick' GROUP BY scheduled_at ORDER BY scheduled_at`,
      );
      // Exactly once in the history, and every second present from the first fire to the last.
      expect(tickRuns.filter((r) => Number(r.n) !== 1)).toEqual([]);
      const seconds = tickRuns.map((r) => r.scheduled_at.getTime() / 1000);
      expect(seconds.length).toBeGreaterThanOrEqual(6);
      expect(seconds.at(-1)! - seconds[0]! + 1).toBe(seconds.length);
      expect(seconds[0]! * 1000).toBeLessThanOrEqual(from + 1000);
      expect(seconds.at(-1)! * 1000).toBeGreaterThanOrEqual(to - 2000);

      // And each fire executed once: none twice, in any replica.
      const executions = loggedLines(tickLog);
      expect(new Set(executions.map((l) => l[0])).size).toBe(executions.length);
      const okRuns = await schema.query<{ n: string }>(`SELECT count(*) AS n FROM "${schema.name}".runs WHERE job = 'tick' AND status = 'ok'`);
      expect(executions.length).toBe(Number(okRuns[0]!.n));

      // The older manifest's replica ran nothing and said why.
      const stalePid = String(stale.child.pid);
      expect(executions.filter((l) => l[1] === stalePid)).toEqual([]);
      expect(loggedLines(slowLog).filter((l) => l[2] === stalePid)).toEqual([]);
      const ranBy = await schema.query<{ ran_by: string }>(`SELECT DISTINCT ran_by FROM "${schema.name}".fires WHERE ran_by IS NOT NULL`);
      expect(ranBy.filter((r) => r.ran_by.split(":").at(-2) === stalePid)).toEqual([]);
      expect(logEntries(stale).some((e) => String(e.msg).includes("differs from the group's newest manifest"))).toBe(true);

      // overlap: skip across the group: no two executions of `slow` at once, and fires skipped meanwhile.
      const intervals = loggedLines(slowLog).map((l) => [Number(l[0]), Number(l[1])]);
      expect(intervals.length).toBeGreaterThanOrEqual(2);
      expect(overlapping(intervals)).toEqual([]);
      const skipped = await schema.query(`SELECT 1 FROM "${schema.name}".runs WHERE job = 'slow' AND status = 'skipped' AND reason = 'overlap'`);
      expect(skipped.length).toBeGreaterThan(0);

      // The history is shared: any process pointed at the database reads it.
      const history = runCli(["history", "tick", "--json", "--limit", "1000", "--store", url], { cwd: project.dir });
      expect(history.status).toBe(0);
      expect(JSON.parse(history.stdout).length).toBe(tickRuns.length);
    } finally {
      await Promise.all(replicas.map(stopReplica));
    }
  }, 60_000);

  test("kill -9 of the replica running a job: its run becomes lost, then is retried elsewhere (same run id, attempt 2)", async () => {
    await using project = tempProject({ "jobs/hang.mjs": HANG_ONCE });
    const log = project.path("hang.log");
    project.write(
      "jobs.yaml",
      `version: 1\njobs:\n  hang: { handler: jobs/hang.mjs, schedule: { every: 1s }, overlap: skip, retries: 1, params: { log: ${JSON.stringify(log)}, marker: ${JSON.stringify(project.path("marker"))} } }\n`,
    );
    const url = schema.url();
    const replicas = await Promise.all([0, 1, 2].map(() => startReplica(project.dir, url)));
    try {
      // Whoever runs the first fire hangs in it; kill it once the handler is inside (marker written).
      const started = await Promise.race(replicas.map((cli, i) => cli.waitForLog((e) => e.event === "run-started" && e.job === "hang", 15_000).then((entry) => ({ i, runId: entry.runId as string }))));
      const victim = replicas[started.i]!;
      await waitFor(() => existsSync(project.path("marker")), 10_000, "the hanging handler to write its marker");
      victim.child.kill("SIGKILL");
      await victim.exited;
      const survivors = replicas.filter((r) => r !== victim);

      await Promise.race(survivors.map((cli) => cli.waitForLog((e) => e.runId === started.runId && e.event === "run-lost" && e.retry === true, 15_000)));
      const ended = await Promise.race(survivors.map((cli) => cli.waitForLog((e) => e.runId === started.runId && e.event === "run-ended", 15_000)));
      expect(ended).toMatchObject({ status: "ok", attempt: 2 });

      // The record is written off the run's path (batched): wait for it to land.
      const run = async () => (await schema.query<{ status: string; attempt: number }>(`SELECT status, attempt FROM "${schema.name}".runs WHERE run_id = $1`, [started.runId]))[0];
      await waitFor(async () => ![undefined, "running"].includes((await run())?.status), 10_000, `the record of run ${started.runId} to land`);
      expect(await run()).toEqual({ status: "ok", attempt: 2 });
      // At least once: attempt 1 in the killed replica, attempt 2 in another.
      const executions = loggedLines(log).filter((l) => l[0] === started.runId);
      expect(executions.map((l) => l[1])).toEqual(["1", "2"]);
      expect(executions[0]![2]).toBe(String(victim.child.pid));
      expect(executions[1]![2]).not.toBe(String(victim.child.pid));
    } finally {
      await Promise.all(replicas.map(stopReplica));
    }
  }, 60_000);

  test("wrong user, database down, bad URL at start: a clear error naming host and database (never the password), exit 2", async () => {
    await using project = tempProject({ "jobs/tick.mjs": TICK, "jobs.yaml": `version: 1\njobs:\n  tick: { handler: jobs/tick.mjs, params: { log: x } }\n` });
    const noRole = runCli(["start", "--store", "postgres://nobody:s3cret@127.0.0.1:5432/test"], { cwd: project.dir });
    expect(noRole.status).toBe(2);
    expect(noRole.stderr).toContain("cannot open the PostgreSQL run history at postgres://nobody@127.0.0.1:5432/test (schema runlet)");
    expect(noRole.stderr).toContain('role "nobody" does not exist');
    expect(noRole.stderr).not.toContain("s3cret");

    const down = runCli(["start"], { cwd: project.dir, env: { RUNLET_DATABASE_URL: "postgres://postgres:s3cret@127.0.0.1:1/test" } });
    expect(down.status).toBe(2);
    expect(down.stderr).toContain("postgres://postgres@127.0.0.1:1/test");
    expect(down.stderr).toContain("ECONNREFUSED");
    expect(down.stderr).not.toContain("s3cret");

    const badSchema = runCli(["start", "--store", "postgres://postgres@127.0.0.1:5432/test?schema=Bad-Name"], { cwd: project.dir });
    expect(badSchema.status).toBe(2);
    expect(badSchema.stderr).toContain('schema must be a lower-case SQL name');
  });
});
