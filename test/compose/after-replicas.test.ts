import { existsSync, readFileSync } from "node:fs";
import { afterEach, beforeEach, expect, test } from "vitest";
import { runCli, type CliProcess } from "../support/cli.js";
import { tempProject } from "../support/temp-project.js";
import { sleep, startReplica, stopReplica, testSchema, type TestSchema } from "../replicas/pg-support.js";
import { loggedLines } from "../support/logged-lines.js";
import { waitFor } from "../support/poll.js";

/** The pid a hanging run wrote to `file`; 0 before it is there (or while it is being written). */
function pidIn(file: string): number {
  return existsSync(file) ? Number(readFileSync(file, "utf8")) || 0 : 0;
}

// Each step writes a line per execution (its job, run id and upstream run id), so the test
// sees what ran, not only what was recorded.
const STEP = `import { appendFileSync } from "node:fs";
export default async (ctx) => {
  const upstream = ctx.trigger.kind === "after" ? ctx.trigger.runId : "-";
  appendFileSync(ctx.params.log, \`\${ctx.job} \${ctx.runId} \${upstream} \${process.pid}\\n\`);
  return (ctx.trigger.kind === "after" ? ctx.trigger.result : 0) + 1;
};
`;
// The first execution (on any replica) hangs until its process is killed; later ones succeed.
const HANG_ONCE = `import { existsSync, writeFileSync } from "node:fs";
export default async (ctx) => {
  if (!existsSync(ctx.params.marker)) {
    writeFileSync(ctx.params.marker, String(process.pid));
    await new Promise((r) => setTimeout(r, 60_000));
  }
  return "fine";
};
`;

/** The executions a step logged (none before the first). */
function executions(file: string): Array<{ job: string; runId: string; upstream: string; pid: string }> {
  return loggedLines(file).map(([job, runId, upstream, pid]) => ({ job: job!, runId: runId!, upstream: upstream!, pid: pid! }));
}

let schema: TestSchema;
beforeEach(async () => {
  schema = await testSchema();
});
afterEach(async () => {
  await schema?.drop();
});

// Partitioned (the default): a step runs where its upstream ended, so the whole chain of an
// extract runs in its owner. Race (?partition=off): every replica claims, the chain crosses them.
test.each([["partitioned", "on"], ["race", "off"]])("a chained pipeline across three PostgreSQL replicas runs each step once per upstream run (%s)", async (_mode, partition) => {
  await using project = tempProject({
    "jobs/step.ts": STEP,
    "jobs.yaml": `version: 1
defaults:
  params: { log: steps.log }
jobs:
  extract: { handler: jobs/step.ts, schedule: { every: 1s } }
  transform: { handler: jobs/step.ts, after: extract }
  load: { handler: jobs/step.ts, after: transform }
`,
  });
  const store = schema.url({ partition });
  const replicas: CliProcess[] = await Promise.all([0, 1, 2].map(() => startReplica(project.dir, store)));
  try {
    // Polling real state: the log of executions, until four extracts went down the chain.
    const chained = () => {
      const runs = executions(project.path("steps.log"));
      return runs.filter((r) => r.job === "extract").filter((e) => runs.some((t) => t.job === "transform" && t.upstream === e.runId && runs.some((l) => l.job === "load" && l.upstream === t.runId))).length;
    };
    await waitFor(chained, { until: (n) => n >= 4, timeoutMs: 20_000, everyMs: 200, what: "four extracts down the chain" });
  } finally {
    await Promise.all(replicas.map((r) => stopReplica(r)));
  }
  const runs = executions(project.path("steps.log"));
  const extracts = runs.filter((r) => r.job === "extract");
  expect(extracts.length).toBeGreaterThanOrEqual(4);
  // Each extract ran once (one line per run id), and so did what ran after it.
  expect(new Set(runs.map((r) => r.runId)).size).toBe(runs.length);
  for (const job of ["transform", "load"]) {
    const upstreams = runs.filter((r) => r.job === job).map((r) => r.upstream);
    expect(new Set(upstreams).size, `${job}: one run per upstream run`).toBe(upstreams.length);
  }
  const history = JSON.parse(runCli(["history", "--json", "--limit", "200", "--store", store], { cwd: project.dir }).stdout) as Array<{ job: string; runId: string; status: string; upstreamRunId?: string; result: unknown }>;
  const byId = new Map(history.map((r) => [r.runId, r]));
  for (const load of history.filter((r) => r.job === "load" && r.status === "ok")) {
    const transform = byId.get(load.upstreamRunId!)!;
    expect(transform, JSON.stringify(load)).toMatchObject({ job: "transform", status: "ok" });
    expect(byId.get(transform.upstreamRunId!)).toMatchObject({ job: "extract" });
    expect(load.result).toBe(3);
  }
  // Racing, the chain really crossed replicas (the claims spread extracts over them).
  if (partition === "off") expect(new Set(runs.map((r) => r.pid)).size).toBeGreaterThan(1);
}, 60_000);

test("an upstream run lost with its replica (kill -9) starts its on: failure job once in the group", async () => {
  await using project = tempProject({
    "jobs/hang.ts": HANG_ONCE,
    "jobs/step.ts": STEP,
    "jobs.yaml": `version: 1
jobs:
  nightly: { handler: jobs/hang.ts, schedule: { every: 2s }, params: { marker: hung.pid } }
  alert:
    handler: jobs/step.ts
    after: { job: nightly, on: failure }
    params: { log: alerts.log }
`,
  });
  const store = schema.url();
  const replicas: CliProcess[] = await Promise.all([0, 1, 2].map(() => startReplica(project.dir, store)));
  try {
    const hungPid = await waitFor(() => pidIn(project.path("hung.pid")), { until: (pid) => pid > 0, timeoutMs: 20_000, everyMs: 100, what: "a run to hang (hung.pid)" });
    const victim = replicas.find((r) => r.child.pid === hungPid)!;
    victim.child.kill("SIGKILL");
    await victim.exited;
    // The lease (2 s) runs out, a survivor's reaper records the run lost, the alert runs.
    const alerts = () => executions(project.path("alerts.log"));
    await waitFor(alerts, { until: (ran) => ran.length > 0, timeoutMs: 20_000, everyMs: 200, what: "the alert to run" });
    // Every survivor has reaped at least twice more: a second alert would have shown by now.
    await sleep(1500);
    expect(alerts()).toHaveLength(1);
    const history = JSON.parse(runCli(["history", "--json", "--store", store], { cwd: project.dir }).stdout) as Array<{ job: string; runId: string; status: string; upstreamRunId?: string }>;
    const lost = history.find((r) => r.job === "nightly" && r.status === "lost")!;
    expect(lost).toBeDefined();
    expect(alerts()[0]!.upstream).toBe(lost.runId);
    expect(history.filter((r) => r.job === "alert"), JSON.stringify(history, null, 1)).toEqual([expect.objectContaining({ status: "ok", trigger: "after", upstreamRunId: lost.runId })]);
  } finally {
    await Promise.all(replicas.map((r) => stopReplica(r)));
  }
}, 60_000);

// Writes what each attempt got (run id, attempt, ctx.trigger, ctx.params, pid); the first
// execution (on any replica) then hangs until its process is killed, later ones succeed.
const HANG_ONCE_TELLING = `import { appendFileSync, existsSync, writeFileSync } from "node:fs";
export default async (ctx) => {
  appendFileSync(ctx.params.log, JSON.stringify({ runId: ctx.runId, attempt: ctx.attempt, trigger: ctx.trigger, params: ctx.params, pid: process.pid }) + "\\n");
  if (!existsSync(ctx.params.marker)) {
    writeFileSync(ctx.params.marker, String(process.pid));
    await new Promise((r) => setTimeout(r, 60_000));
  }
  return "fine";
};
`;

test("a run started by another's end, lost with its replica, is retried by a survivor with the same ctx.trigger and params", async () => {
  await using project = tempProject({
    "jobs/hang.ts": HANG_ONCE_TELLING,
    "jobs/step.ts": STEP,
    "jobs.yaml": `version: 1
jobs:
  up: { handler: jobs/step.ts, schedule: { every: 2s }, params: { log: up.log } }
  down:
    handler: jobs/hang.ts
    after: up
    retries: { max: 2, delay: 10ms }
    params: { marker: hung.pid, log: down.log }
  alert:
    handler: jobs/step.ts
    after: { job: down, on: failure }
    params: { log: alerts.log }
`,
  });
  const store = schema.url();
  const attempts = () => {
    try {
      return readFileSync(project.path("down.log"), "utf8").trim().split("\n").filter(Boolean).map((l) => JSON.parse(l) as { runId: string; attempt: number; trigger: { kind: string; runId: string; result: unknown }; params: unknown; pid: number });
    } catch {
      return [];
    }
  };
  const replicas: CliProcess[] = await Promise.all([0, 1, 2].map(() => startReplica(project.dir, store)));
  try {
    const hungPid = await waitFor(() => pidIn(project.path("hung.pid")), { until: (pid) => pid > 0, timeoutMs: 20_000, everyMs: 100, what: "a run of down to hang (hung.pid)" });
    const first = attempts().find((a) => a.pid === hungPid)!;
    expect(first).toMatchObject({ attempt: 1, trigger: { kind: "after", job: "up", status: "ok" } });
    // A run's records are written after its handler starts (batched per turn): kill the
    // replica only once attempt 1's start is in the store, which is what this test reads back.
    const startKept = async () => {
      const [kept] = await schema.query<{ attempts: string | null }>(`SELECT attempts FROM "${schema.name}".runs WHERE run_id = $1`, [first.runId]);
      return kept?.attempts != null && (JSON.parse(kept.attempts) as unknown[]).length > 0;
    };
    await waitFor(startKept, { until: (kept) => kept, timeoutMs: 20_000, everyMs: 50, what: "attempt 1's start in the store" });
    const victim = replicas.find((r) => r.child.pid === hungPid)!;
    victim.child.kill("SIGKILL");
    await victim.exited;
    // The lease (2 s) runs out, a survivor's reaper queues the retry, a survivor takes it over.
    const isRetry = (a: { runId: string; attempt: number }) => a.runId === first.runId && a.attempt === 2;
    const retried = (await waitFor(attempts, { until: (tried) => tried.some(isRetry), timeoutMs: 30_000, everyMs: 200, what: `attempt 2 of run ${first.runId}` })).find(isRetry)!;
    expect(retried.pid).not.toBe(hungPid);
    expect(retried.trigger).toEqual(first.trigger);
    expect(retried.params).toEqual(first.params);
    const history = () => JSON.parse(runCli(["history", "--json", "--limit", "200", "--store", store], { cwd: project.dir }).stdout) as Array<{ job: string; runId: string; status: string; attempt: number; upstreamRunId?: string }>;
    await waitFor(() => history().find((r) => r.runId === first.runId), { until: (run) => run?.status === "ok", timeoutMs: 10_000, everyMs: 200, what: `run ${first.runId} recorded ok` });
    expect(history().find((r) => r.runId === first.runId)).toMatchObject({ status: "ok", attempt: 2, upstreamRunId: first.trigger.runId });
    // Its tries as kept: the first as the lost replica recorded it (started, never ended), the second whole.
    const [row] = await schema.query<{ attempts: string }>(`SELECT attempts FROM "${schema.name}".runs WHERE run_id = $1`, [first.runId]);
    expect(JSON.parse(row!.attempts)).toEqual([
      { attempt: 1, startedAt: expect.any(String), finishedAt: null, status: "running", error: null },
      { attempt: 2, startedAt: expect.any(String), finishedAt: expect.any(String), status: "ok", error: null },
    ]);
    // It ended ok: its on: failure job never ran.
    expect(executions(project.path("alerts.log"))).toEqual([]);
  } finally {
    await Promise.all(replicas.map((r) => stopReplica(r)));
  }
}, 90_000);
